"""One row per change to a staff account: who, from where, what, before and after (no secrets)."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import DateTime, ForeignKey, Index, String, Text, text
from sqlalchemy.dialects.postgresql import INET, JSONB
from sqlalchemy.orm import Mapped, mapped_column

from kitehub.orm import BigIntPrimaryKey
from kitehub.tenant.base import TenantBase


class TenantAuditEntry(BigIntPrimaryKey, TenantBase):
    __tablename__ = "audit_log"
    __table_args__ = (
        Index("ix_audit_log_occurred_at", "occurred_at"),
        Index("ix_audit_log_action_occurred_at", "action", "occurred_at"),
        Index("ix_audit_log_actor_user_id_occurred_at", "actor_user_id", "occurred_at"),
        Index("ix_audit_log_target_user_id_occurred_at", "target_user_id", "occurred_at"),
    )

    occurred_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=text("now()"))
    actor_role: Mapped[str] = mapped_column(String(32), comment="owner, admin, teacher, staff")
    actor_user_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"), comment="a staff member; null for the owner"
    )
    actor_account_id: Mapped[uuid.UUID | None] = mapped_column(comment="the owner's platform account")
    actor_email: Mapped[str | None] = mapped_column(String(320))
    action: Mapped[str] = mapped_column(String(100), comment="e.g. user.role_change")
    target_user_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    ip: Mapped[str | None] = mapped_column(INET)
    user_agent: Mapped[str | None] = mapped_column(Text)
    request_id: Mapped[str | None] = mapped_column(String(128))
    before: Mapped[dict[str, Any] | None] = mapped_column(JSONB)
    after: Mapped[dict[str, Any] | None] = mapped_column(JSONB)
