"""Readiness: can this process serve traffic (platform database reachable and migrated)?"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

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
