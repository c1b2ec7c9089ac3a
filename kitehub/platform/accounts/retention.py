"""Failed-login rows of platform accounts that no longer affect a lockout are deleted: the table
only grows otherwise (every address ever tried, known or not, leaves a row until a successful
log-in). The rule is the lockout's own (``kitehub.lockout.forget_idle_failures``)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from kitehub.lockout import forget_idle_failures
from kitehub.platform.accounts.models import LoginAttempts


async def forget_idle_login_failures(session: AsyncSession, now: datetime, *, limit: int) -> int:
    """Delete up to ``limit`` platform rows that no longer affect a lockout; how many went."""
    return await forget_idle_failures(session, LoginAttempts, now, limit=limit)
