"""Tables that only grow are cleaned by an hourly job: idle failed-login rows and day-old
Idempotency-Key answers go, what still matters (a lock, recent failures, a fresh answer) stays."""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

from litestar.testing import AsyncTestClient
from sqlalchemy.engine import URL
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from kitehub.jobs import create_job_app
from kitehub.platform.accounts.services import create_account
from kitehub.platform.retention import BATCH, CLEAN, clean_growing_tables
from tests.platform.billing.support import execute, fetch

Sessions = async_sessionmaker[AsyncSession]
NOW = datetime.now(UTC)
HOUR = timedelta(hours=1)


async def _attempt(url: URL, email: str, failures: int, last_failure: datetime, locked_until: datetime | None) -> None:
    await execute(url, "INSERT INTO login_attempts (email, failures, last_failure_at, locked_until)"
                  " VALUES ($1, $2, $3, $4)", email, failures, last_failure, locked_until)  # fmt: skip


async def _emails(url: URL) -> set[str]:
    return {row["email"] for row in await fetch(url, "SELECT email FROM login_attempts")}


async def test_login_failures_are_forgotten_only_once_they_no_longer_affect_a_lockout(
    client: AsyncTestClient[Any], platform_sessions: Sessions, platform_url: URL
) -> None:
    await _attempt(platform_url, "quiet@example.vn", 3, NOW - 25 * HOUR, None)
    await _attempt(platform_url, "lock-over@example.vn", 9, NOW - 25 * HOUR, NOW - 25 * HOUR + timedelta(minutes=15))
    await _attempt(platform_url, "recent@example.vn", 4, NOW - 23 * HOUR, None)  # one more failure locks it
    await _attempt(platform_url, "locked@example.vn", 12, NOW - 25 * HOUR, NOW + timedelta(minutes=10))

    cleaned = await clean_growing_tables(platform_sessions, NOW)

    assert cleaned.login_attempts == 2
    assert await _emails(platform_url) == {"recent@example.vn", "locked@example.vn"}
    # the lockout still holds for what was kept
    locked = await client.post("/api/v1/auth/login", json={"email": "locked@example.vn", "password": "x" * 12})
    assert locked.status_code == 429
    fifth = await client.post("/api/v1/auth/login", json={"email": "recent@example.vn", "password": "x" * 12})
    assert fifth.status_code == 401
    [row] = await fetch(platform_url, "SELECT failures, locked_until FROM login_attempts WHERE email = $1",
                        "recent@example.vn")  # fmt: skip
    assert row["failures"] == 5
    assert row["locked_until"] is not None


async def test_idempotency_answers_are_kept_a_day_then_deleted(platform_sessions: Sessions, platform_url: URL) -> None:
    async with platform_sessions() as session, session.begin():
        account = await create_account(session, email="owner@example.vn", password="long enough 1", full_name="O")
    for key, age in (("old", 25 * HOUR), ("day-and-a-bit", 24 * HOUR + timedelta(minutes=1)), ("fresh", 23 * HOUR)):
        await execute(platform_url, "INSERT INTO idempotency_keys (account_id, scope, key, request_fingerprint,"
                      " status_code, response, headers, created_at) VALUES ($1, 'instances.create', $2, 'f', 202,"
                      " '{}', '{}', $3)", account.id, key, NOW - age)  # fmt: skip

    cleaned = await clean_growing_tables(platform_sessions, NOW)

    assert cleaned.idempotency_keys == 2
    assert [row["key"] for row in await fetch(platform_url, "SELECT key FROM idempotency_keys")] == ["fresh"]


async def test_workers_cleaning_at_once_share_more_than_a_batch_and_count_each_row_once(
    platform_sessions: Sessions, platform_url: URL
) -> None:
    rows = 2 * BATCH + 7
    await execute(platform_url, "INSERT INTO login_attempts (email, failures, last_failure_at)"
                  " SELECT 'spray-' || n || '@example.vn', 1, $1 FROM generate_series(1, $2) AS n",
                  NOW - 48 * HOUR, rows)  # fmt: skip
    await _attempt(platform_url, f"{uuid.uuid4().hex}@example.vn", 1, NOW - HOUR, None)

    runs = await asyncio.gather(*(clean_growing_tables(platform_sessions, NOW) for _ in range(3)))

    assert sum(run.login_attempts for run in runs) == rows
    assert len(await _emails(platform_url)) == 1


def test_the_clean_up_is_a_periodic_job(platform_url: URL) -> None:
    app = create_job_app(platform_url)
    periodic = {task.task.name: task.cron for task in app.periodic_registry.periodic_tasks.values()}
    assert periodic[CLEAN] == "7 * * * *"
    assert app.tasks[CLEAN].queueing_lock == CLEAN
