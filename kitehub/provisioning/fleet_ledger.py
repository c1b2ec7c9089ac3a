"""What the fleet migration ledger (``tenant_migrations``) says: runs, failures, progress."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from kitehub.platform.instances.models import Instance, InstanceStatus
from kitehub.provisioning.models import TenantMigration, TenantMigrationStatus

MIGRATABLE = (InstanceStatus.READY, InstanceStatus.SUSPENDED)


async def last_run_id(session: AsyncSession) -> uuid.UUID | None:
    return await session.scalar(select(TenantMigration.run_id).order_by(TenantMigration.started_at.desc()).limit(1))


async def last_run_failures(session: AsyncSession) -> list[uuid.UUID]:
    run_id = await last_run_id(session)
    if run_id is None:
        return []
    rows = await session.scalars(
        select(TenantMigration.instance_id).where(
            TenantMigration.run_id == run_id, TenantMigration.status == TenantMigrationStatus.FAILED
        )
    )
    return list(rows)


@dataclass(frozen=True, slots=True)
class FleetStatus:
    revisions: dict[str | None, int]
    last_run_id: uuid.UUID | None
    failures: list[tuple[str, str | None]]  # (subdomain, error)


async def fleet_status(session: AsyncSession) -> FleetStatus:
    """How many tenants sit at each revision, and what failed in the last run."""
    rows = await session.execute(
        select(Instance.schema_revision, func.count())
        .where(Instance.status.in_(MIGRATABLE))
        .group_by(Instance.schema_revision)
    )
    revisions = {revision: int(count) for revision, count in rows.all()}
    run_id = await last_run_id(session)
    failures: list[tuple[str, str | None]] = []
    if run_id is not None:
        failed = await session.execute(
            select(Instance.subdomain, TenantMigration.error)
            .join(Instance, Instance.id == TenantMigration.instance_id)
            .where(TenantMigration.run_id == run_id, TenantMigration.status == TenantMigrationStatus.FAILED)
            .order_by(Instance.subdomain)
        )
        failures = [(subdomain, error) for subdomain, error in failed.all()]
    return FleetStatus(revisions, run_id, failures)


@dataclass(frozen=True, slots=True)
class RunProgress:
    run_id: uuid.UUID
    counts: dict[str, int]
    started_at: datetime | None
    finished_at: datetime | None


async def run_progress(session: AsyncSession, run_id: uuid.UUID) -> RunProgress | None:
    rows = await session.execute(
        select(TenantMigration.status, func.count(), func.min(TenantMigration.started_at),
               func.max(TenantMigration.finished_at))
        .where(TenantMigration.run_id == run_id)
        .group_by(TenantMigration.status)
    )  # fmt: skip
    result = rows.all()
    if not result:
        return None
    counts = {status.value: int(count) for status, count, _, _ in result}
    started = min(started for _, _, started, _ in result)
    # every planned tenant has its row from the start, so "no RUNNING row left" means the run ended
    finished = None if counts.get("RUNNING") else max((f for _, _, _, f in result if f is not None), default=None)
    return RunProgress(run_id, counts, started, finished)


async def last_run_target(session: AsyncSession) -> str | None:
    """The revision the last run's failures were headed for (what ``--retry-failed`` retries)."""
    run_id = await last_run_id(session)
    if run_id is None:
        return None
    return await session.scalar(
        select(TenantMigration.to_revision)
        .where(TenantMigration.run_id == run_id, TenantMigration.status == TenantMigrationStatus.FAILED)
        .limit(1)
    )
