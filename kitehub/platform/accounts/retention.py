"""Failed-login rows that no longer affect a lockout are deleted: the table only grows otherwise
(every address ever tried, known or not, leaves a row until a successful log-in).

A row no longer affects a lockout once it is not locked and has seen no failure for
``FORGET_FAILURES_AFTER``: its failures are then forgotten, as if the address had never failed.
This never helps a guesser: the longest lock (``LOCKOUT_MAX``) is far shorter, so an address
guessed without pause keeps its row and its growing locks, and a guesser who waits a day for a
fresh row gets five tries and a few more a day, fewer than the ~100 a day of guessing without
pause.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import delete, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from kitehub.lockout import LOCKOUT_MAX
from kitehub.platform.accounts.models import LoginAttempts

FORGET_FAILURES_AFTER = timedelta(hours=24)
assert LOCKOUT_MAX < FORGET_FAILURES_AFTER  # a lock always ends before its row can be forgotten


async def forget_idle_login_failures(session: AsyncSession, now: datetime, *, limit: int) -> int:
    """Delete up to ``limit`` rows that no longer affect a lockout; how many went.

    Rows another transaction holds (a log-in counting a failure) are skipped: two workers
    cleaning at once never wait for each other, nor for a log-in.
    """
    attempts = LoginAttempts
    idle = (
        select(attempts.email)
        .where(
            or_(attempts.last_failure_at.is_(None), attempts.last_failure_at < now - FORGET_FAILURES_AFTER),
            or_(attempts.locked_until.is_(None), attempts.locked_until <= now),
        )
        .limit(limit)
        .with_for_update(skip_locked=True)
    )
    statement = delete(attempts).where(attempts.email.in_(idle)).execution_options(synchronize_session=False)
    result = await session.execute(statement)
    return int(result.rowcount or 0)  # type: ignore[attr-defined]
