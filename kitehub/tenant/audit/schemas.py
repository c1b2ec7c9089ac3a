"""Audit trail bodies."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from pydantic import BaseModel, IPvAnyAddress


class TenantAuditEntryResponse(BaseModel):
    id: int
    occurred_at: datetime
    actor_role: str
    actor_user_id: uuid.UUID | None
    actor_account_id: uuid.UUID | None
    actor_email: str | None
    action: str
    target_user_id: uuid.UUID | None
    ip: IPvAnyAddress | None
    user_agent: str | None
    request_id: str | None
    before: dict[str, Any] | None
    after: dict[str, Any] | None


class TenantAuditPage(BaseModel):
    items: list[TenantAuditEntryResponse]
    total: int
    limit: int
    offset: int
