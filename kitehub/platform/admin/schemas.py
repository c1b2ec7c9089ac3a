"""Admin request and response bodies."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from pydantic import BaseModel, Field, IPvAnyAddress

from kitehub.schemas import StrictBody


class SuspendRequest(StrictBody):
    reason: str | None = Field(default=None, max_length=500)


class AuditEntryResponse(BaseModel):
    id: int
    occurred_at: datetime
    actor_id: uuid.UUID | None
    actor_role: str
    action: str
    target_type: str
    target_id: str | None
    ip: IPvAnyAddress | None
    user_agent: str | None
    request_id: str | None
    before: dict[str, Any] | None
    after: dict[str, Any] | None


class AuditPage(BaseModel):
    items: list[AuditEntryResponse]
    total: int
    limit: int
    offset: int


class DatabaseServerRequest(StrictBody):
    name: str = Field(pattern=r"^[a-z0-9][a-z0-9_-]{0,62}$")
    url: str = Field(max_length=2000, description="postgresql://admin:password@host:5432/postgres")
    max_tenants: int = Field(default=500, ge=1, le=1_000_000)


class DatabaseServerResponse(BaseModel):
    id: uuid.UUID
    name: str
    host: str
    port: int
    admin_username: str
    status: str
    max_tenants: int
    tenants: int


class MigrationRequest(StrictBody):
    target: str = Field(default="head", max_length=64)
    concurrency: int = Field(default=4, ge=1, le=64)
    per_server: int = Field(default=4, ge=1, le=64)
    canary: int = Field(default=0, ge=0, le=10_000)
    max_failures: int | None = Field(default=None, ge=1)
    retry_failed: bool = False
    force: bool = Field(default=False, description="allow a target below the oldest revision the code serves")


class MigrationStarted(BaseModel):
    run_id: uuid.UUID
    target: str | None


class MigrationStatusResponse(BaseModel):
    revisions: dict[str, int]
    last_run_id: uuid.UUID | None
    failures: list[dict[str, str | None]]


class MigrationRunResponse(BaseModel):
    run_id: uuid.UUID
    counts: dict[str, int]
    started_at: datetime | None
    finished_at: datetime | None
