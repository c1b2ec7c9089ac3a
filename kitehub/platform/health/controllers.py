"""Liveness and readiness probes for load balancers and orchestrators."""

from __future__ import annotations

from typing import Any

from litestar import Controller, get
from litestar.di import NamedDependency
from sqlalchemy.ext.asyncio import AsyncSession

from kitehub.errors import ServiceUnavailableError
from kitehub.platform.health.services import check_platform_database
from kitehub.provisioning.router import TenantRouter


class HealthController(Controller):
    path = "/health"
    tags = ["health"]  # noqa: RUF012 - Litestar declares it as an instance attribute

    @get("/live", summary="The process is up")
    async def live(self) -> dict[str, str]:
        return {"status": "ok"}

    @get("/ready", summary="The platform database is reachable and at the schema head")
    async def ready(
        self, platform_session: NamedDependency[AsyncSession], tenant_router: NamedDependency[TenantRouter]
    ) -> dict[str, Any]:
        database = await check_platform_database(platform_session)
        report = {
            "revision": database.revision,
            "expected_revision": database.expected_revision,
        }
        if not database.ready:
            raise ServiceUnavailableError(
                database.problem or "not ready",
                extra={"checks": {"platform_database": report}},
            )
        return {"status": "ready", "checks": {"platform_database": report}, "tenant_router": tenant_router.stats()}
