"""``/api/v1/admin/migrations``: fleet schema migrations started, followed and summarised by admins."""

from __future__ import annotations

import uuid

from litestar import Controller, get, post
from litestar.di import NamedDependency
from litestar.params import FromPath, JSONBody
from sqlalchemy.ext.asyncio import AsyncSession

from kitehub.errors import NotFoundError
from kitehub.platform.accounts.models import Account
from kitehub.platform.admin.schemas import (
    MigrationRequest,
    MigrationRunResponse,
    MigrationStarted,
    MigrationStatusResponse,
)
from kitehub.platform.admin.services import start_migration
from kitehub.platform.audit.services import AuditActor
from kitehub.provisioning.fleet_ledger import fleet_status, run_progress


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
