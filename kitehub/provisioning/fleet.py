"""The fleet migration runner: every tenant database moved to one revision, safely, with a ledger.

Each tenant is migrated as its own role (it owns its schema), in one transaction (PostgreSQL DDL
is transactional: a failure leaves the tenant untouched at its old revision), under an advisory
lock in that tenant's database (two runners never migrate one tenant at once). Tenants already at
the target are skipped from their platform row, without a connection. Concurrency is bounded
overall and per database server; a canary batch goes first and must pass; scheduling stops after
``max_failures`` failures. Every attempt is a ``tenant_migrations`` row.
"""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import func, select, text, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker, create_async_engine
from sqlalchemy.pool import NullPool

from kitehub.errors import InvalidInputError, NotFoundError
from kitehub.migrate import MIGRATION_LOCK_KEYS, migrate_connection, resolve_revision, tenant_revision_supported
from kitehub.platform.instances.models import Instance
from kitehub.provisioning.credentials import database_password_location
from kitehub.provisioning.fleet_ledger import MIGRATABLE, last_run_failures, last_run_target
from kitehub.provisioning.models import DatabaseServer, TenantMigration, TenantMigrationStatus
from kitehub.provisioning.servers import server_url
from kitehub.provisioning.vault import Vault

TENANT_LOCK_TIMEOUT_SECONDS = 60
MAX_ERROR_LENGTH = 2000


@dataclass(frozen=True, slots=True)
class FleetOptions:
    target: str | None = None  # None: head, or with retry_failed the target of the run retried
    concurrency: int = 4
    per_server: int = 4
    instance_ids: tuple[uuid.UUID, ...] = ()
    server: str | None = None
    canary: int = 0
    max_failures: int | None = None
    dry_run: bool = False
    retry_failed: bool = False
    force: bool = False  # allow a target below the oldest revision this code serves


@dataclass(frozen=True, slots=True)
class Tenant:
    instance_id: uuid.UUID
    subdomain: str
    server_id: uuid.UUID
    server_host: str
    server_port: int
    database: str
    role: str
    password_encrypted: str
    revision: str | None


@dataclass(frozen=True, slots=True)
class TenantResult:
    tenant: Tenant
    status: TenantMigrationStatus
    from_revision: str | None
    to_revision: str | None
    error: str | None = None
    duration_ms: int = 0


@dataclass
class FleetReport:
    run_id: uuid.UUID
    target: str | None
    planned: list[Tenant] = field(default_factory=list)
    results: list[TenantResult] = field(default_factory=list)
    stopped_early: str | None = None

    def count(self, status: TenantMigrationStatus) -> int:
        return sum(result.status is status for result in self.results)

    @property
    def ok(self) -> bool:
        return self.stopped_early is None and self.count(TenantMigrationStatus.FAILED) == 0


class FleetRunner:
    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        vault: Vault,
        *,
        on_result: Callable[[TenantResult], None] | None = None,
    ) -> None:
        self._sessions = sessions
        self._vault = vault
        self._on_result = on_result

    async def run(self, options: FleetOptions, run_id: uuid.UUID | None = None) -> FleetReport:
        target = await self._target(options)
        report = FleetReport(run_id=run_id or uuid.uuid4(), target=target)
        tenants = await self._tenants(options)
        report.planned = [tenant for tenant in tenants if tenant.revision != target]
        if options.dry_run:
            return report
        skipped = [tenant for tenant in tenants if tenant.revision == target]
        await self._record_plan(report.run_id, skipped, report.planned, target)
        for tenant in skipped:
            self._done(report, TenantResult(tenant, TenantMigrationStatus.SKIPPED, tenant.revision, tenant.revision))
        if not report.planned:
            return report
        canaries, rest = report.planned[: options.canary], report.planned[options.canary :]
        for tenant in canaries:  # one at a time: the first failure stops everything
            result = await self._migrate(report.run_id, tenant, target)
            self._done(report, result)
            if result.status is TenantMigrationStatus.FAILED:
                report.stopped_early = f"canary {tenant.subdomain} failed"
                await self._close_unscheduled(report.run_id, report.stopped_early)
                return report
        await self._migrate_all(report, rest, target, options)
        if report.stopped_early:
            await self._close_unscheduled(report.run_id, report.stopped_early)
        return report

    async def _target(self, options: FleetOptions) -> str | None:
        requested = options.target
        if requested is None and options.retry_failed:
            async with self._sessions() as session:
                requested = await last_run_target(session)
        try:
            target = resolve_revision("tenant", requested or "head")
        except Exception:  # alembic raises several kinds for an unknown or ambiguous id
            raise InvalidInputError(
                f"no tenant revision {requested!r}",
                extra={"errors": [{"field": "target", "message": "unknown revision", "source": "body"}]},
            ) from None
        if not tenant_revision_supported(target) and not options.force:
            raise InvalidInputError(
                f"{target or 'base'} is older than the oldest revision this code serves: every tenant would "
                "answer 503 (and 'base' drops all their tables); confirm with force",
                extra={"errors": [{"field": "target", "message": "below the supported revision", "source": "body"}]},
            )
        return target

    async def _record_plan(
        self, run_id: uuid.UUID, skipped: list[Tenant], planned: list[Tenant], target: str | None
    ) -> None:
        """The whole run in the ledger before it starts (one statement): tenants already at the
        target as SKIPPED, the others RUNNING until their attempt ends, so the run's progress and
        its end can be read at any time. A run started again under its id (a job retried after
        its worker died) keeps the rows it has: finished tenants stay as they ended."""
        rows = [
            {"run_id": run_id, "instance_id": tenant.instance_id, "from_revision": tenant.revision,
             "to_revision": tenant.revision, "status": TenantMigrationStatus.SKIPPED, "duration_ms": 0,
             "finished_at": None}
            for tenant in skipped
        ] + [
            {"run_id": run_id, "instance_id": tenant.instance_id, "from_revision": tenant.revision,
             "to_revision": target, "status": TenantMigrationStatus.RUNNING, "duration_ms": None,
             "finished_at": None}
            for tenant in planned
        ]  # fmt: skip
        if rows:
            async with self._sessions() as session, session.begin():
                await session.execute(
                    insert(TenantMigration)
                    .values(started_at=func.now())
                    .on_conflict_do_nothing(index_elements=[TenantMigration.run_id, TenantMigration.instance_id]),
                    rows,
                )
                await session.execute(  # skipped rows end when they start, on the database's clock
                    update(TenantMigration)
                    .where(TenantMigration.run_id == run_id, TenantMigration.status == TenantMigrationStatus.SKIPPED)
                    .values(finished_at=TenantMigration.started_at)
                )

    async def _close_unscheduled(self, run_id: uuid.UUID, reason: str) -> None:
        """Planned tenants a stopped run never reached: SKIPPED, with why."""
        async with self._sessions() as session, session.begin():
            await session.execute(
                update(TenantMigration)
                .where(TenantMigration.run_id == run_id, TenantMigration.status == TenantMigrationStatus.RUNNING)
                .values(status=TenantMigrationStatus.SKIPPED, error=f"not scheduled: {reason}",
                        finished_at=func.now(), duration_ms=0)
            )  # fmt: skip

    @staticmethod
    def _row(run_id: uuid.UUID, tenant: Tenant) -> tuple[Any, Any]:
        return TenantMigration.run_id == run_id, TenantMigration.instance_id == tenant.instance_id

    def _done(self, report: FleetReport, result: TenantResult) -> None:
        report.results.append(result)
        if self._on_result is not None:
            self._on_result(result)

    async def _migrate_all(
        self, report: FleetReport, tenants: list[Tenant], target: str | None, options: FleetOptions
    ) -> None:
        overall = asyncio.Semaphore(options.concurrency)
        per_server: dict[uuid.UUID, asyncio.Semaphore] = {}
        failures = 0

        async def one(tenant: Tenant) -> None:
            nonlocal failures
            server_gate = per_server.setdefault(tenant.server_id, asyncio.Semaphore(options.per_server))
            async with server_gate, overall:  # a busy server's queue holds no slot of the others
                if options.max_failures is not None and failures >= options.max_failures:
                    return  # scheduling stopped: this tenant is left as it is
                result = await self._migrate(report.run_id, tenant, target)
                if result.status is TenantMigrationStatus.FAILED:
                    failures += 1
                self._done(report, result)

        outcomes = await asyncio.gather(*(one(tenant) for tenant in tenants), return_exceptions=True)
        for outcome in outcomes:
            if isinstance(outcome, BaseException):  # e.g. the platform database went away mid-run
                report.stopped_early = f"{type(outcome).__name__}: {outcome}"
        if options.max_failures is not None and failures >= options.max_failures:
            report.stopped_early = f"{failures} failures reached --max-failures {options.max_failures}"

    async def _migrate(self, run_id: uuid.UUID, tenant: Tenant, target: str | None) -> TenantResult:
        started = time.perf_counter()
        async with self._sessions() as session, session.begin():  # its planned row: the attempt starts now
            await session.execute(
                update(TenantMigration)
                .where(*self._row(run_id, tenant))  # (again, when the run is started again under its id)
                .values(started_at=func.now(), status=TenantMigrationStatus.RUNNING, finished_at=None, error=None)
            )
        status, before, after, error = TenantMigrationStatus.FAILED, tenant.revision, tenant.revision, None
        try:
            before, after, moved = await self._migrate_database(tenant, target)
            status = TenantMigrationStatus.SUCCEEDED if moved else TenantMigrationStatus.SKIPPED
        except Exception as exc:  # the tenant's transaction rolled back: it is untouched
            error = f"{type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''}"[:MAX_ERROR_LENGTH]
        duration_ms = int((time.perf_counter() - started) * 1000)
        async with self._sessions() as session, session.begin():
            await session.execute(
                update(TenantMigration)
                .where(*self._row(run_id, tenant))
                .values(
                    status=status,
                    from_revision=before,
                    to_revision=target if status is TenantMigrationStatus.FAILED else after,
                    error=error,
                    finished_at=datetime.now(UTC),
                    duration_ms=duration_ms,
                )
            )
            if status is not TenantMigrationStatus.FAILED and after != tenant.revision:
                # also heals a platform row left behind (the tenant moved, the record did not)
                await session.execute(
                    update(Instance).where(Instance.id == tenant.instance_id).values(schema_revision=after)
                )  # every process's router drops this tenant's engine (NOTIFY): its schema changed
        return TenantResult(tenant, status, before, after, error, duration_ms)

    async def _migrate_database(self, tenant: Tenant, target: str | None) -> tuple[str | None, str | None, bool]:
        password = self._vault.decrypt(tenant.password_encrypted, database_password_location(tenant.instance_id))
        url = server_url(tenant.server_host, tenant.server_port, username=tenant.role, password=password,
                         database=tenant.database)  # fmt: skip
        engine = create_async_engine(url, poolclass=NullPool, hide_parameters=True)
        try:
            async with engine.begin() as conn:
                # Another runner may be migrating this tenant: wait for it (bounded), then look
                # again; what it finished is then a no-op here, what it failed is tried again.
                await conn.execute(text(f"SET LOCAL lock_timeout = '{TENANT_LOCK_TIMEOUT_SECONDS}s'"))
                await conn.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": MIGRATION_LOCK_KEYS["tenant"]})
                await conn.execute(text("SET LOCAL lock_timeout = 0"))
                before, after = await migrate_connection(conn, "tenant", target or "base")
                return before, after, before != after
        finally:
            await engine.dispose()

    async def _tenants(self, options: FleetOptions) -> list[Tenant]:
        query = (
            select(Instance, DatabaseServer)
            .join(DatabaseServer, DatabaseServer.id == Instance.database_server_id)
            .where(Instance.status.in_(MIGRATABLE), Instance.database_password_encrypted.is_not(None))
            .order_by(Instance.created_at, Instance.id)
        )
        if options.instance_ids:
            query = query.where(Instance.id.in_(options.instance_ids))
        if options.server:
            query = query.where(DatabaseServer.name == options.server)
        async with self._sessions() as session:
            if options.server and not await session.scalar(
                select(DatabaseServer.id).where(
                    DatabaseServer.name == options.server, DatabaseServer.deleted_at.is_(None)
                )
            ):
                raise NotFoundError(f"no database server named {options.server!r}")
            if options.retry_failed:
                query = query.where(Instance.id.in_(await last_run_failures(session)))
            rows = (await session.execute(query)).all()
        unknown = set(options.instance_ids) - {instance.id for instance, _ in rows}
        if unknown:
            raise InvalidInputError(
                f"not migratable (unknown, or not READY/SUSPENDED): {', '.join(sorted(map(str, unknown)))}",
                extra={"errors": [{"field": "instances", "message": "not migratable", "source": "body"}]},
            )
        return [
            Tenant(
                instance_id=instance.id,
                subdomain=instance.subdomain,
                server_id=server.id,
                server_host=server.host,
                server_port=server.port,
                database=instance.database_name or "",
                role=instance.database_role or "",
                password_encrypted=instance.database_password_encrypted or "",
                revision=instance.schema_revision,
            )
            for instance, server in rows
        ]
