"""Anonymous visitors of the school's landing pages and what they did (kept 90 days)."""

from __future__ import annotations

import uuid
from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import CheckConstraint, DateTime, ForeignKey, Index, String, func, text
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from kitehub.orm import BigIntPrimaryKey, UUIDPrimaryKey, str_enum
from kitehub.tenant.base import TenantBase


class DeviceType(StrEnum):
    DESKTOP = "desktop"
    MOBILE = "mobile"
    TABLET = "tablet"
    OTHER = "other"


class GuestSession(UUIDPrimaryKey, TenantBase):
    __tablename__ = "guest_sessions"
    __table_args__ = (Index("ix_guest_sessions_started_at", "started_at"),)

    source: Mapped[str | None] = mapped_column(String(100), comment="utm source, referrer host, ...")
    device_type: Mapped[DeviceType] = mapped_column(str_enum(DeviceType, "device_type"))
    started_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())


class GuestEvent(BigIntPrimaryKey, TenantBase):
    __tablename__ = "guest_events"
    __table_args__ = (
        CheckConstraint("event_type ~ '^[a-z][a-z0-9_]{0,49}$'", name="event_type_format"),
        Index("ix_guest_events_occurred_at", "occurred_at"),
        Index("ix_guest_events_session_id", "session_id"),
        Index("ix_guest_events_course_id_occurred_at", "course_id", "occurred_at"),
    )

    session_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("guest_sessions.id", ondelete="CASCADE"))
    event_type: Mapped[str] = mapped_column(String(50))
    course_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("courses.id", ondelete="SET NULL"))
    event_metadata: Mapped[dict[str, Any]] = mapped_column("metadata", JSONB, server_default=text("'{}'::jsonb"))
    occurred_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
