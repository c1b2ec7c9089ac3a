"""Admin operations that are not about one instance: database servers and fleet migrations."""

from __future__ import annotations

import uuid

from sqlalchemy.exc import ArgumentError
from sqlalchemy.ext.asyncio import AsyncSession

from kitehub.db import normalise_url, safe_url
from kitehub.errors import InvalidInputError
from kitehub.jobs import enqueue
from kitehub.migrate import resolve_revision
from kitehub.platform.admin.schemas import DatabaseServerResponse, MigrationRequest, MigrationStarted
from kitehub.platform.audit.services import AuditActor, record
from kitehub.provisioning import jobs as provisioning_jobs
from kitehub.provisioning.servers import harden_server, list_servers, register_server, verify_server
from kitehub.provisioning.vault import Vault


async def server_views(session: AsyncSession) -> list[DatabaseServerResponse]:
    return [
        DatabaseServerResponse(
            id=usage.server.id,
            name=usage.server.name,
            host=usage.server.host,
            port=usage.server.port,
            admin_username=usage.server.admin_username,
            status=usage.server.status.value,
            max_tenants=usage.server.max_tenants,
            tenants=usage.tenants,
        )
        for usage in await list_servers(session)
    ]


async def add_database_server(
    session: AsyncSession, vault: Vault, actor: AuditActor, name: str, url: str, max_tenants: int
) -> DatabaseServerResponse:
    try:
        await verify_server(url)
        server = await register_server(session, vault, name=name, url=url, max_tenants=max_tenants)
    except (ValueError, ArgumentError) as exc:  # not a PostgreSQL URL, no host, bad port
        raise InvalidInputError(
            "not a usable PostgreSQL URL", extra={"errors": [{"field": "url", "message": str(exc), "source": "body"}]}
        ) from None
    await harden_server(server, vault)
    await record(session, actor, "database_server.add", "database_server", server.id,
                 after={"name": name, "url": safe_url_text(url), "max_tenants": max_tenants})  # fmt: skip
    return next(view for view in await server_views(session) if view.id == server.id)


def safe_url_text(url: str) -> str:
    try:
        return safe_url(normalise_url(url))
    except (ValueError, ArgumentError):
        return "(invalid)"


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
