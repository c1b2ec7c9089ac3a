"""Branding jobs: asynchronous generation of an instance's look (logo, colours, landing copy)."""

from __future__ import annotations

import uuid
from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import CheckConstraint, DateTime, ForeignKey, Index, String, Text, text
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from kitehub.db import PlatformBase
from kitehub.orm import OptimisticVersion, Timestamps, UUIDPrimaryKey, str_enum


class BrandingJobStatus(StrEnum):
    QUEUED = "QUEUED"
    RUNNING = "RUNNING"
    SUCCEEDED = "SUCCEEDED"
    FAILED = "FAILED"


class BrandingJob(UUIDPrimaryKey, Timestamps, OptimisticVersion, PlatformBase):
    __tablename__ = "branding_jobs"
    __table_args__ = (
        CheckConstraint("attempts >= 0", name="attempts_non_negative"),
        Index("ix_branding_jobs_instance_id_created_at", "instance_id", "created_at"),
        Index("ix_branding_jobs_status", "status"),
    )

    instance_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("instances.id", ondelete="RESTRICT"))
    kind: Mapped[str] = mapped_column(String(64))
    status: Mapped[BrandingJobStatus] = mapped_column(
        str_enum(BrandingJobStatus, "branding_job_status"),
        server_default=BrandingJobStatus.QUEUED.value,
    )
    input: Mapped[dict[str, Any]] = mapped_column(JSONB, server_default=text("'{}'::jsonb"))
    result: Mapped[dict[str, Any] | None] = mapped_column(JSONB)
    error: Mapped[str | None] = mapped_column(Text)
    attempts: Mapped[int] = mapped_column(server_default=text("0"), default=0)
    requested_by: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("accounts.id", ondelete="SET NULL"))
    started_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    finished_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
