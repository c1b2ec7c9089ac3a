"""Readiness: can this process serve traffic (platform database reachable and migrated)?"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from typing import Any

from sqlalchemy import text
from sqlalchemy.exc import DBAPIError, OperationalError
from sqlalchemy.ext.asyncio import AsyncSession

from kitehub.migrate import current_revision, head_revision

READINESS_TIMEOUT_SECONDS = 5.0


@dataclass(frozen=True, slots=True)
class DatabaseReadiness:
    reachable: bool
    revision: str | None
    expected_revision: str | None
    problem: str | None

    @property
    def ready(self) -> bool:
        return self.reachable and self.revision == self.expected_revision


async def check_platform_database(session: AsyncSession) -> DatabaseReadiness:
    expected = head_revision("platform")
    try:
        async with asyncio.timeout(READINESS_TIMEOUT_SECONDS):
            await session.execute(text("SELECT 1"))
            revision = await current_revision(await session.connection())
    except (OSError, TimeoutError, OperationalError, DBAPIError) as exc:
        return DatabaseReadiness(
            False,
            None,
            expected,
            f"platform database unreachable ({type(exc).__name__})",
        )
    problem = None
    if revision != expected:
        problem = f"platform schema is at {revision or 'no revision'}, this code needs {expected}"
    return DatabaseReadiness(True, revision, expected, problem)


async def queue_report(session: AsyncSession) -> dict[str, Any]:
    """Jobs due and waiting for a worker, and how long the oldest has waited (None: none waits).

    A job is due since it was scheduled for, or else since it was deferred. A growing age with
    ready workers means the workers cannot keep up (or none runs anywhere).
    """
    row = (
        await session.execute(
            text(
                "SELECT count(*) AS waiting,"
                " EXTRACT(EPOCH FROM now() - min(COALESCE(job.scheduled_at, deferred.at))) AS oldest"
                " FROM procrastinate.procrastinate_jobs AS job"
                " LEFT JOIN LATERAL (SELECT min(event.at) AS at FROM procrastinate.procrastinate_events AS event"
                "  WHERE event.job_id = job.id AND event.type = 'deferred') AS deferred ON true"
                " WHERE job.status = 'todo' AND (job.scheduled_at IS NULL OR job.scheduled_at <= now())"
            )
        )
    ).one()
    oldest = None if row.oldest is None else round(max(float(row.oldest), 0.0), 1)
    return {"waiting": int(row.waiting), "oldest_waiting_seconds": oldest}
