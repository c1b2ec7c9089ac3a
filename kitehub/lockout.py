"""Lockout after failed log-ins: one policy and one table shape for platform accounts (platform
database) and school staff (each tenant's database).

Failures are counted per lower-cased e-mail address whether or not anyone has it, so a known and
an unknown address are answered alike. Five failures lock the address for 30 s, doubling with each
further failure up to 15 minutes (429 with ``Retry-After``). Every failure is counted under the
row's lock (``SELECT ... FOR UPDATE`` after an ``INSERT ... ON CONFLICT DO NOTHING``), so
concurrent wrong passwords each count once and the sixth of a burst finds the address locked; the
slow password check itself runs before the lock is taken, so it never holds it.
"""

from __future__ import annotations

import math
from datetime import UTC, datetime, timedelta
from typing import TypeVar

from sqlalchemy import DateTime, Integer, String, delete, or_, select, text
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Mapped, mapped_column

from kitehub.errors import TooManyRequestsError

FREE_FAILURES = 5
LOCKOUT_BASE = timedelta(seconds=30)
LOCKOUT_MAX = timedelta(minutes=15)
# a row not locked and without a failure for this long no longer affects a lockout: forgotten
FORGET_FAILURES_AFTER = timedelta(hours=24)
assert LOCKOUT_MAX < FORGET_FAILURES_AFTER  # a lock always ends before its row can be forgotten


class LoginAttemptColumns:
    """The columns of a ``login_attempts`` table (one row per address with failures)."""

    email: Mapped[str] = mapped_column(String(320), primary_key=True, comment="lower-cased")
    failures: Mapped[int] = mapped_column(Integer, server_default=text("0"), default=0)
    locked_until: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    last_failure_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


Attempts = TypeVar("Attempts", bound=LoginAttemptColumns)


def login_key(email: str) -> str:
    """The address as failures are counted: case and surrounding spaces do not dodge a lock."""
    return email.strip().lower()[:320]


async def refuse_if_locked(session: AsyncSession, model: type[Attempts], key: str) -> None:
    """429 before any password is checked while ``key`` is locked (cheap: no hashing, no lock)."""
    _refuse_if_locked(await session.get(model, key), datetime.now(UTC))


async def count_failure(session: AsyncSession, model: type[Attempts], key: str) -> int:
    """Count one failed log-in of ``key`` and return the failures so far; 429 (not counted) when
    the address was locked while this attempt's password was being checked. The caller commits."""
    row: Attempts | None = None
    while row is None:  # again when a right password deleted the row between the two statements
        await session.execute(insert(model).values(email=key).on_conflict_do_nothing())
        row = await session.get(model, key, with_for_update=True, populate_existing=True)
    now = datetime.now(UTC)
    _refuse_if_locked(row, now)
    row.failures += 1
    row.last_failure_at = now
    if row.failures >= FREE_FAILURES:
        row.locked_until = now + min(LOCKOUT_MAX, LOCKOUT_BASE * 2 ** min(row.failures - FREE_FAILURES, 10))
    await session.flush()
    return row.failures


async def clear_failures(session: AsyncSession, model: type[Attempts], key: str) -> None:
    """A right password: the count starts again, unless the address was locked meanwhile (429)."""
    row = await session.get(model, key, with_for_update=True, populate_existing=True)
    if row is not None:
        _refuse_if_locked(row, datetime.now(UTC))
        await session.delete(row)
        await session.flush()


async def forget_failures(session: AsyncSession, model: type[Attempts], key: str) -> None:
    """Unlock ``key`` (a new password was set for it)."""
    await session.execute(delete(model).where(model.email == key))


def _refuse_if_locked(row: LoginAttemptColumns | None, now: datetime) -> None:
    if row is not None and row.locked_until is not None and row.locked_until > now:
        raise TooManyRequestsError(
            "too many failed logins for this address; try again later",
            retry_after_seconds=math.ceil((row.locked_until - now).total_seconds()),
        )


async def forget_idle_failures(session: AsyncSession, model: type[Attempts], now: datetime, *, limit: int) -> int:
    """Delete up to ``limit`` rows that no longer affect a lockout; how many went.

    A row no longer affects a lockout once it is not locked and has seen no failure for
    ``FORGET_FAILURES_AFTER``. This never helps a guesser: the longest lock is far shorter, so an
    address guessed without pause keeps its row and its growing locks, and one who waits a day
    for a fresh row gets five tries a day. Rows another transaction holds (a log-in counting a
    failure) are skipped: two cleaners never wait for each other, nor for a log-in.
    """
    idle = (
        select(model.email)
        .where(
            or_(model.last_failure_at.is_(None), model.last_failure_at < now - FORGET_FAILURES_AFTER),
            or_(model.locked_until.is_(None), model.locked_until <= now),
        )
        .limit(limit)
        .with_for_update(skip_locked=True)
    )
    statement = delete(model).where(model.email.in_(idle)).execution_options(synchronize_session=False)
    result = await session.execute(statement)
    return int(result.rowcount or 0)  # type: ignore[attr-defined]
