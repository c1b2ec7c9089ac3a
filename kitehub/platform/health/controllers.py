"""Liveness and readiness probes for load balancers and orchestrators."""

from __future__ import annotations

from typing import Any

from litestar import Controller, get
from litestar.datastructures import State
from litestar.di import NamedDependency
from sqlalchemy.ext.asyncio import AsyncSession

from kitehub.errors import ServiceUnavailableError
from kitehub.job_worker import SupervisedWorker
from kitehub.platform.health.services import check_platform_database, queue_report
from kitehub.provisioning.router import TenantRouter


class HealthController(Controller):
    path = "/health"
    tags = ["health"]  # noqa: RUF012 - Litestar declares it as an instance attribute

    @get("/live", summary="The process is up")
    async def live(self) -> dict[str, str]:
        return {"status": "ok"}

    @get(
        "/ready",
        summary="The platform database is reachable and at the schema head, and this process's job worker runs",
    )
    async def ready(
        self,
        state: State,
        platform_session: NamedDependency[AsyncSession],
        tenant_router: NamedDependency[TenantRouter],
    ) -> dict[str, Any]:
        database = await check_platform_database(platform_session)
        checks: dict[str, Any] = {
            "platform_database": {"revision": database.revision, "expected_revision": database.expected_revision}
        }
        if not database.ready:
            raise ServiceUnavailableError(database.problem or "not ready", extra={"checks": checks})
        worker: SupervisedWorker | None = state.get("job_worker")
        if worker is not None:  # a process started with --no-worker has none to report
            status = worker.status()
            checks["job_worker"] = status.as_dict()
            if not status.running:
                raise ServiceUnavailableError("the job worker of this process is not running", extra={"checks": checks})
        checks["job_queue"] = await queue_report(platform_session)
        return {"status": "ready", "checks": checks, "tenant_router": tenant_router.stats()}
