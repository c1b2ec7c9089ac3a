"""``/api/v1/admin/migrations``: fleet schema migrations started, followed and summarised by admins."""

from __future__ import annotations

import uuid
from datetime import datetime

from litestar import Controller, get, post
from litestar.di import NamedDependency
from litestar.params import FromPath, JSONBody
from pydantic import BaseModel, Field
from sqlalchemy.ext.asyncio import AsyncSession

from kitehub.errors import InvalidInputError, NotFoundError
from kitehub.jobs import enqueue
from kitehub.migrate import resolve_revision
from kitehub.platform.accounts.models import Account
from kitehub.platform.audit.services import AuditActor, record
from kitehub.provisioning import jobs as provisioning_jobs
from kitehub.provisioning.fleet import fleet_status, run_progress
from kitehub.schemas import StrictBody


class MigrationRequest(StrictBody):
    target: str = Field(default="head", max_length=64)
    concurrency: int = Field(default=4, ge=1, le=64)
    per_server: int = Field(default=4, ge=1, le=64)
    canary: int = Field(default=0, ge=0, le=10_000)
    max_failures: int | None = Field(default=None, ge=1)
    retry_failed: bool = False


class MigrationStarted(BaseModel):
    run_id: uuid.UUID
    target: str | None


class MigrationStatusResponse(BaseModel):
    revisions: dict[str, int]
    last_run_id: uuid.UUID | None
    failures: list[dict[str, str | None]]


class MigrationRunResponse(BaseModel):
    run_id: uuid.UUID
    counts: dict[str, int]
    started_at: datetime | None
    finished_at: datetime | None


async def start_migration(session: AsyncSession, actor: AuditActor, request: MigrationRequest) -> MigrationStarted:
    try:
        target = resolve_revision("tenant", request.target)
    except Exception:
        raise InvalidInputError(
            f"no tenant revision {request.target!r}",
            extra={"errors": [{"field": "target", "message": "unknown revision", "source": "body"}]},
        ) from None
    run_id = uuid.uuid4()
    await enqueue(
        session,
        provisioning_jobs.MIGRATE,
        queue=provisioning_jobs.MIGRATION_QUEUE,
        args={"run_id": str(run_id), "options": request.model_dump()},
        queueing_lock="fleet-migration",  # one waiting run at a time
    )
    await record(session, actor, "migration.start", "migration_run", run_id, after=request.model_dump())
    return MigrationStarted(run_id=run_id, target=target)


class MigrationController(Controller):
    path = "/api/v1/admin/migrations"
    tags = ["admin"]  # noqa: RUF012 - Litestar declares it as an instance attribute

    @get(summary="Tenants per schema revision, and the failures of the last run")
    async def status(
        self, current_admin: NamedDependency[Account], platform_session: NamedDependency[AsyncSession]
    ) -> MigrationStatusResponse:
        status = await fleet_status(platform_session)
        return MigrationStatusResponse(
            revisions={str(revision): count for revision, count in status.revisions.items()},
            last_run_id=status.last_run_id,
            failures=[{"subdomain": subdomain, "error": error} for subdomain, error in status.failures],
        )

    @post(status_code=202, summary="Start a fleet migration (runs as a job); follow it by its run id")
    async def start(
        self,
        data: JSONBody[MigrationRequest],
        current_admin: NamedDependency[Account],
        audit_actor: NamedDependency[AuditActor],
        platform_session: NamedDependency[AsyncSession],
    ) -> MigrationStarted:
        return await start_migration(platform_session, audit_actor.as_account(current_admin), data)

    @get("/{run_id:uuid}", summary="Progress of one run: tenants per outcome so far")
    async def run(
        self, run_id: FromPath[uuid.UUID], current_admin: NamedDependency[Account],
        platform_session: NamedDependency[AsyncSession],
    ) -> MigrationRunResponse:  # fmt: skip
        progress = await run_progress(platform_session, run_id)
        if progress is None:
            raise NotFoundError("no such run (or it has not started yet)")
        return MigrationRunResponse(
            run_id=progress.run_id, counts=progress.counts, started_at=progress.started_at,
            finished_at=progress.finished_at,
        )  # fmt: skip
