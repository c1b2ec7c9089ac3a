"""Failed staff log-ins per e-mail address, known or not, in the school's own database."""

from __future__ import annotations

from sqlalchemy import CheckConstraint

from kitehub.lockout import LoginAttemptColumns
from kitehub.tenant.base import TenantBase


class StaffLoginAttempts(LoginAttemptColumns, TenantBase):
    """One row per address with failures (``kitehub.lockout``); a right password deletes it."""

    __tablename__ = "login_attempts"
    __table_args__ = (CheckConstraint("failures >= 0", name="failures_non_negative"),)
