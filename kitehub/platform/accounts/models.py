"""Platform accounts: the people who own instances and the admins who run the platform."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import CheckConstraint, DateTime, Index, Integer, String, func, text
from sqlalchemy.orm import Mapped, mapped_column

from kitehub.db import PlatformBase
from kitehub.lockout import LoginAttemptColumns
from kitehub.orm import (
    OptimisticVersion,
    SoftDelete,
    Timestamps,
    UUIDPrimaryKey,
    str_enum,
)


class AccountRole(StrEnum):
    OWNER = "owner"
    ADMIN = "admin"


class Account(UUIDPrimaryKey, Timestamps, SoftDelete, OptimisticVersion, PlatformBase):
    __tablename__ = "accounts"
    __table_args__ = (
        # E-mail is unique case-insensitively among live accounts; a deleted account frees it.
        Index(
            "uq_accounts_email_live",
            func.lower(text("email")),
            unique=True,
            postgresql_where=text("deleted_at IS NULL"),
        ),
        CheckConstraint("position('@' in email) > 1", name="email_has_at"),
        CheckConstraint("failed_login_count >= 0", name="failed_login_count_non_negative"),
    )

    email: Mapped[str] = mapped_column(String(320))
    password_hash: Mapped[str] = mapped_column(String(255))
    full_name: Mapped[str] = mapped_column(String(200))
    role: Mapped[AccountRole] = mapped_column(
        str_enum(AccountRole, "account_role"), server_default=AccountRole.OWNER.value
    )
    is_active: Mapped[bool] = mapped_column(server_default=text("true"), default=True)
    failed_login_count: Mapped[int] = mapped_column(Integer, server_default=text("0"), default=0)
    locked_until: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    last_login_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class LoginAttempts(LoginAttemptColumns, PlatformBase):
    """Failed logins per e-mail address, known or not (so lockout reveals no account)."""

    __tablename__ = "login_attempts"
    __table_args__ = (CheckConstraint("failures >= 0", name="failures_non_negative"),)
