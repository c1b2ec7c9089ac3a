"""Staff of the school who log in to the tenant API (admins, teachers, staff)."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import CheckConstraint, DateTime, Index, Integer, String, func, text
from sqlalchemy.orm import Mapped, mapped_column

from kitehub.orm import OptimisticVersion, SoftDelete, Timestamps, UUIDPrimaryKey, str_enum
from kitehub.tenant.base import TenantBase


class TenantRole(StrEnum):
    ADMIN = "admin"
    TEACHER = "teacher"
    STAFF = "staff"


class TenantUser(UUIDPrimaryKey, Timestamps, SoftDelete, OptimisticVersion, TenantBase):
    __tablename__ = "users"
    __table_args__ = (
        Index(
            "uq_users_email_live", func.lower(text("email")), unique=True, postgresql_where=text("deleted_at IS NULL")
        ),
        CheckConstraint("position('@' in email) > 1", name="email_has_at"),
        CheckConstraint("failed_login_count >= 0", name="failed_login_count_non_negative"),
        CheckConstraint("token_generation >= 0", name="token_generation_non_negative"),
    )

    email: Mapped[str] = mapped_column(String(320))
    full_name: Mapped[str] = mapped_column(String(200))
    role: Mapped[TenantRole] = mapped_column(str_enum(TenantRole, "tenant_role"))
    password_hash: Mapped[str] = mapped_column(String(255))
    is_active: Mapped[bool] = mapped_column(server_default=text("true"), default=True)
    failed_login_count: Mapped[int] = mapped_column(Integer, server_default=text("0"), default=0)
    locked_until: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    last_login_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    token_generation: Mapped[int] = mapped_column(
        Integer,
        server_default=text("0"),
        default=0,
        comment="tokens carry it (claim gen); raised to revoke every token of the user at once",
    )
