"""The fleet migration runner against real tenant databases, with a test-only revision."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.engine import URL
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from kitehub import migrate
from kitehub.app import create_app
from kitehub.errors import InvalidInputError
from kitehub.migrate import extra_version_locations, head_revision
from kitehub.platform.instances.models import Instance
from kitehub.provisioning.fleet import FleetOptions, FleetRunner
from kitehub.provisioning.fleet_ledger import fleet_status
from kitehub.provisioning.models import TenantMigration, TenantMigrationStatus
from kitehub.provisioning.template import template_name
from kitehub.provisioning.vault import Vault
from kitehub.settings import Settings
from tests.client import ConcurrentTestClient
from tests.conftest import TenantFactory, bearer
from tests.support import connect

REVISIONS = Path(__file__).with_name("fleet_revisions")
HEAD = head_revision("tenant")  # the product's tenant head, on which the test revision t9001 sits
assert HEAD is not None
S = TenantMigrationStatus


async def _revision_in_database(server_url: URL, instance: Instance) -> str | None:
    assert instance.database_name is not None
    async with connect(server_url.set(database=instance.database_name)) as conn:
        revision: str | None = await conn.fetchval("SELECT version_num FROM alembic_version")
        return revision


async def _sabotage(server_url: URL, instance: Instance) -> None:
    assert instance.database_name is not None
    async with connect(server_url.set(database=instance.database_name)) as conn:
        await conn.execute("CREATE TABLE fleet_probe (squatter int)")  # the revision's CREATE TABLE now fails


async def _repair(server_url: URL, instance: Instance) -> None:
    assert instance.database_name is not None
    async with connect(server_url.set(database=instance.database_name)) as conn:
        await conn.execute("DROP TABLE fleet_probe")


async def test_twenty_tenants_one_sabotaged_then_repaired_then_rolled_back(
    make_tenant: TenantFactory,
    platform_sessions: async_sessionmaker[AsyncSession],
    vault: Vault,
    server_url: URL,
) -> None:
    tenants = [await make_tenant() for _ in range(20)]
    broken = tenants[7]
    await _sabotage(server_url, broken)
    runner = FleetRunner(platform_sessions, vault)
    with extra_version_locations("tenant", REVISIONS):
        report = await runner.run(FleetOptions(target="head", concurrency=4))
        assert (report.count(S.SUCCEEDED), report.count(S.FAILED), report.ok) == (19, 1, False)
        for tenant in tenants:
            expected = HEAD if tenant is broken else "t9001"
            assert await _revision_in_database(server_url, tenant) == expected
        async with platform_sessions() as session:
            ledger = list(await session.scalars(select(TenantMigration).where(TenantMigration.run_id == report.run_id)))
            status = await fleet_status(session)
        assert len(ledger) == 20
        failed = [row for row in ledger if row.status is S.FAILED]
        assert [row.instance_id for row in failed] == [broken.id]
        assert "fleet_probe" in (failed[0].error or "")
        assert all(row.finished_at is not None and row.duration_ms is not None for row in ledger)
        assert status.revisions == {"t9001": 19, HEAD: 1}
        assert [subdomain for subdomain, _ in status.failures] == [broken.subdomain]

        await _repair(server_url, broken)
        retried = await runner.run(FleetOptions(target="head", retry_failed=True))
        assert [result.tenant.instance_id for result in retried.results] == [broken.id]
        assert retried.ok
        assert await _revision_in_database(server_url, broken) == "t9001"

        back = await runner.run(FleetOptions(target=HEAD, concurrency=4))
        assert back.count(S.SUCCEEDED) == 20
        assert back.ok
    for tenant in tenants:
        assert await _revision_in_database(server_url, tenant) == HEAD
    async with platform_sessions() as session:
        assert {row.schema_revision for row in await session.scalars(select(Instance))} == {HEAD}


async def test_two_runners_at_once_migrate_each_tenant_exactly_once(
    make_tenant: TenantFactory,
    platform_sessions: async_sessionmaker[AsyncSession],
    vault: Vault,
) -> None:
    tenants = [await make_tenant() for _ in range(6)]  # born at the product's head, before the test revision
    first, second = FleetRunner(platform_sessions, vault), FleetRunner(platform_sessions, vault)
    with extra_version_locations("tenant", REVISIONS):
        await asyncio.gather(first.run(FleetOptions(concurrency=3)), second.run(FleetOptions(concurrency=3)))
        async with platform_sessions() as session:
            rows = list(await session.scalars(select(TenantMigration).where(TenantMigration.status == S.SUCCEEDED)))
        assert sorted(str(row.instance_id) for row in rows) == sorted(str(tenant.id) for tenant in tenants)
        assert (await first.run(FleetOptions(target=HEAD))).ok


async def test_a_failing_canary_stops_the_run_before_anyone_else(
    make_tenant: TenantFactory,
    platform_sessions: async_sessionmaker[AsyncSession],
    vault: Vault,
    server_url: URL,
) -> None:
    tenants = [await make_tenant() for _ in range(6)]
    await _sabotage(server_url, tenants[1])  # the second canary
    with extra_version_locations("tenant", REVISIONS):
        report = await FleetRunner(platform_sessions, vault).run(FleetOptions(canary=3, concurrency=4))
        assert report.stopped_early is not None
        assert [result.status for result in report.results] == [S.SUCCEEDED, S.FAILED]
        async with platform_sessions() as session:
            ledger = list(await session.scalars(select(TenantMigration)))
        assert {row.instance_id for row in ledger if row.status is not S.SKIPPED} == {tenants[0].id, tenants[1].id}
        unscheduled = [row for row in ledger if row.status is S.SKIPPED]
        assert len(unscheduled) == 4
        assert all((row.error or "").startswith("not scheduled: canary") for row in unscheduled)
        for tenant in tenants[2:]:
            assert await _revision_in_database(server_url, tenant) == HEAD
        await _repair(server_url, tenants[1])
        assert (await FleetRunner(platform_sessions, vault).run(FleetOptions(target=HEAD))).ok


async def test_max_failures_stops_scheduling_and_dry_run_changes_nothing(
    make_tenant: TenantFactory,
    platform_sessions: async_sessionmaker[AsyncSession],
    vault: Vault,
    server_url: URL,
) -> None:
    tenants = [await make_tenant() for _ in range(5)]
    runner = FleetRunner(platform_sessions, vault)
    for tenant in tenants[:2]:
        await _sabotage(server_url, tenant)
    with extra_version_locations("tenant", REVISIONS):
        plan = await runner.run(FleetOptions(dry_run=True))
        assert [tenant.instance_id for tenant in plan.planned] == [tenant.id for tenant in tenants]
        assert plan.results == []
        stopped = await runner.run(FleetOptions(concurrency=1, max_failures=2))
    assert stopped.count(S.FAILED) == 2
    assert stopped.count(S.SUCCEEDED) == 0  # nothing scheduled after the second failure
    assert stopped.stopped_early is not None
    for tenant in tenants:
        assert await _revision_in_database(server_url, tenant) == HEAD


async def test_tenants_below_the_supported_revision_wait_for_their_migration(
    make_tenant: TenantFactory,
    platform_sessions: async_sessionmaker[AsyncSession],
    vault: Vault,
    settings: Settings,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    tenant = await make_tenant()
    headers = {"Host": f"{tenant.subdomain}.kitehub.localhost", **bearer(settings, tenant.owner_id)}
    with extra_version_locations("tenant", REVISIONS):
        monkeypatch.setattr(migrate, "OLDEST_SUPPORTED_TENANT_REVISION", "t9001")  # code that needs t9001
        migrate._has_ancestor.cache_clear()
        async with ConcurrentTestClient(create_app(settings)) as client:
            waiting = await client.get("/tenant/v1/health", headers=headers)
            assert waiting.status_code == 503
            assert waiting.headers["retry-after"]
            assert (await FleetRunner(platform_sessions, vault).run(FleetOptions())).ok
            await asyncio.sleep(0.3)  # the instance's change is announced to the router (NOTIFY)
            served = await client.get("/tenant/v1/health", headers=headers)
            assert served.status_code == 200, served.text
            assert served.json()["schema_revision"] == "t9001"  # a fresh engine saw the new schema
        refused = FleetRunner(platform_sessions, vault).run(FleetOptions(target=HEAD))
        with pytest.raises(InvalidInputError, match="older than the oldest revision"):  # needs force now
            await refused
        assert (await FleetRunner(platform_sessions, vault).run(FleetOptions(target=HEAD, force=True))).ok


async def test_new_tenants_start_at_a_new_head(make_tenant: TenantFactory, server_url: URL) -> None:
    """When the tenant head changes, the template is rebuilt: nobody is born needing a migration."""
    with extra_version_locations("tenant", REVISIONS):
        newborn = await make_tenant()
    try:
        assert newborn.schema_revision == "t9001"
        assert await _revision_in_database(server_url, newborn) == "t9001"
    finally:
        async with connect(server_url.set(database="postgres")) as admin:
            await admin.execute(f"ALTER DATABASE {template_name('t9001')} WITH IS_TEMPLATE false")
            await admin.execute(f"DROP DATABASE IF EXISTS {template_name('t9001')} WITH (FORCE)")


async def test_retry_failed_retries_towards_the_failed_runs_target(
    make_tenant: TenantFactory,
    platform_sessions: async_sessionmaker[AsyncSession],
    vault: Vault,
    server_url: URL,
) -> None:
    tenants = [await make_tenant() for _ in range(2)]
    runner = FleetRunner(platform_sessions, vault)
    with extra_version_locations("tenant", REVISIONS):
        assert (await runner.run(FleetOptions())).ok  # both at t9001
        blocker = tenants[0]
        assert blocker.database_name is not None
        async with connect(server_url.set(database=blocker.database_name)) as conn:
            await conn.execute("CREATE VIEW probe_view AS SELECT * FROM fleet_probe")  # blocks the DROP TABLE
        down = await runner.run(FleetOptions(target=HEAD))
        assert down.count(S.FAILED) == 1
        async with connect(server_url.set(database=blocker.database_name)) as conn:
            await conn.execute("DROP VIEW probe_view")
        retried = await runner.run(FleetOptions(retry_failed=True))  # no --to: the failed run's target
        assert retried.target == HEAD
        assert retried.ok
    assert await _revision_in_database(server_url, blocker) == HEAD


async def test_a_run_started_again_under_its_id_finishes_what_it_left(
    make_tenant: TenantFactory,
    platform_sessions: async_sessionmaker[AsyncSession],
    vault: Vault,
    server_url: URL,
) -> None:
    """A fleet job retried after its worker died runs again with the same run id: the tenants it
    had done keep their rows, the rest are migrated (it used to fail on the ledger's unique key)."""
    tenants = [await make_tenant() for _ in range(3)]
    await _sabotage(server_url, tenants[2])  # the first attempt leaves this one behind
    runner = FleetRunner(platform_sessions, vault)
    with extra_version_locations("tenant", REVISIONS):
        first = await runner.run(FleetOptions(target="head"))
        await _repair(server_url, tenants[2])
        again = await runner.run(FleetOptions(target="head"), run_id=first.run_id)
    assert again.ok, again.stopped_early
    for tenant in tenants:
        assert await _revision_in_database(server_url, tenant) == "t9001"
    async with platform_sessions() as session:
        ledger = list(await session.scalars(select(TenantMigration).where(TenantMigration.run_id == first.run_id)))
    assert sorted(row.status for row in ledger) == sorted([S.SUCCEEDED, S.SUCCEEDED, S.SUCCEEDED])
