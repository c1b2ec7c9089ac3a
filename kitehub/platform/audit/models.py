"""The audit trail: who changed what, from where, with the state before and after (no secrets)."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import DateTime, ForeignKey, Index, String, Text, text
from sqlalchemy.dialects.postgresql import INET, JSONB
from sqlalchemy.orm import Mapped, mapped_column

from kitehub.db import PlatformBase
from kitehub.orm import BigIntPrimaryKey


class AuditLogEntry(BigIntPrimaryKey, PlatformBase):
    __tablename__ = "audit_log"
    __table_args__ = (
        Index("ix_audit_log_occurred_at", "occurred_at"),
        Index("ix_audit_log_actor_id_occurred_at", "actor_id", "occurred_at"),
        Index(
            "ix_audit_log_target_type_target_id_occurred_at",
            "target_type",
            "target_id",
            "occurred_at",
        ),
        Index("ix_audit_log_action_occurred_at", "action", "occurred_at"),
    )

    occurred_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=text("now()"))
    actor_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("accounts.id", ondelete="RESTRICT"),
        comment="null for the system itself",
    )
    actor_role: Mapped[str] = mapped_column(String(32), comment="owner, admin, system, webhook")
    action: Mapped[str] = mapped_column(String(100), comment="e.g. instance.suspend")
    target_type: Mapped[str] = mapped_column(String(64))
    target_id: Mapped[str | None] = mapped_column(String(128))
    ip: Mapped[str | None] = mapped_column(INET)
    user_agent: Mapped[str | None] = mapped_column(Text)
    request_id: Mapped[str | None] = mapped_column(String(128))
    before: Mapped[dict[str, Any] | None] = mapped_column(JSONB)
    after: Mapped[dict[str, Any] | None] = mapped_column(JSONB)
