"""Tables that only grow are kept short by an hourly job: failed-login rows that no longer affect
a lockout (``accounts.retention``) and ``Idempotency-Key`` answers older than a day
(``idempotency.services``). Revoked tokens need no table: platform tokens are short JWTs that
expire by themselves.

Safe on any number of workers: procrastinate defers a periodic job once per tick whatever the
number of workers, the queueing lock keeps at most one waiting, and should two runs overlap
anyway, each deletes only rows it could lock at once (``SKIP LOCKED``), so they share the work.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from functools import partial

import procrastinate
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from kitehub.jobs import runtime_of
from kitehub.logs import get_logger
from kitehub.platform.accounts.retention import forget_idle_login_failures
from kitehub.platform.idempotency.services import forget_old_answers

CLEAN = "platform.clean_growing_tables"
QUEUE = "maintenance"
BATCH = 1_000  # rows per transaction: row locks are held briefly, and an interrupted run loses nothing

logger = get_logger(__name__)


@dataclass(frozen=True, slots=True)
class Cleaned:
    login_attempts: int
    idempotency_keys: int


async def clean_growing_tables(sessions: async_sessionmaker[AsyncSession], now: datetime) -> Cleaned:
    """Everything due as of ``now``, batch by batch; how many rows of each table went."""
    return Cleaned(
        login_attempts=await _in_batches(sessions, partial(forget_idle_login_failures, now=now, limit=BATCH)),
        idempotency_keys=await _in_batches(sessions, partial(forget_old_answers, now=now, limit=BATCH)),
    )


async def _in_batches(
    sessions: async_sessionmaker[AsyncSession], delete_batch: Callable[[AsyncSession], Awaitable[int]]
) -> int:
    total = 0
    while True:
        async with sessions() as session, session.begin():
            deleted = await delete_batch(session)
        total += deleted
        if deleted < BATCH:
            return total


async def clean_tables(context: procrastinate.JobContext, timestamp: int) -> None:
    cleaned = await clean_growing_tables(runtime_of(context).sessions, datetime.now(UTC))
    if any(asdict(cleaned).values()):
        logger.info("growing tables cleaned", **asdict(cleaned))


def register_tasks(app: procrastinate.App) -> None:
    task = app.task(name=CLEAN, queue=QUEUE, pass_context=True, queueing_lock=CLEAN)(clean_tables)
    app.periodic(cron="7 * * * *", periodic_id="growing-tables")(task)
