"""Provisioning against the real server: roles, databases, isolation, failures, teardown."""

from __future__ import annotations

import asyncio
import uuid

import asyncpg
import pytest
from sqlalchemy import select
from sqlalchemy.engine import URL
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from kitehub.db import libpq_dsn
from kitehub.migrate import head_revision
from kitehub.platform.instances.models import Instance, InstanceEvent, InstanceStatus
from kitehub.platform.registry import platform_metadata
from kitehub.provisioning.credentials import TENANT_SCRAM_ITERATIONS
from kitehub.provisioning.models import DatabaseServer, ProvisioningStepStatus
from kitehub.provisioning.provisioner import (
    STEPS,
    Phase,
    Provisioner,
    ProvisioningFailedError,
    ProvisioningInProgressError,
)
from kitehub.provisioning.teardown import deprovision, drop_orphans, find_orphans
from kitehub.provisioning.vault import Vault
from tests.conftest import TenantFactory, tenant_password, tenant_url
from tests.support import connect


async def _owner_of(admin: asyncpg.Connection, database: str) -> str:
    owner: str = await admin.fetchval("SELECT pg_get_userbyid(datdba) FROM pg_database WHERE datname = $1", database)
    return owner


async def test_three_tenants_get_three_databases_each_owned_by_its_own_role(
    make_tenant: TenantFactory, server_url: URL
) -> None:
    tenants = [await make_tenant() for _ in range(3)]
    async with connect(server_url.set(database="postgres")) as admin:
        for tenant in tenants:
            assert tenant.status is InstanceStatus.READY
            assert tenant.database_name is not None
            assert await _owner_of(admin, tenant.database_name) == tenant.database_role
    assert len({tenant.database_name for tenant in tenants}) == 3
    assert len({tenant.database_role for tenant in tenants}) == 3
    assert {tenant.schema_revision for tenant in tenants} == {head_revision("tenant")}


async def test_a_tenant_role_cannot_connect_to_any_other_database(
    make_tenant: TenantFactory,
    platform_sessions: async_sessionmaker[AsyncSession],
    vault: Vault,
    server_url: URL,
    platform_url: URL,
) -> None:
    a, b = await make_tenant(), await make_tenant()
    password_a = await tenant_password(platform_sessions, vault, a.id)

    own = await asyncpg.connect(dsn=libpq_dsn(tenant_url(server_url, a, password_a)))
    try:
        assert await own.fetchval("SELECT subdomain FROM instance_config") == a.subdomain
        # every table belongs to the tenant's role, so it can use (and later migrate) its schema
        assert (
            await own.fetchval(
                "SELECT count(*) FROM pg_tables WHERE schemaname = 'public' AND tableowner <> current_user"
            )
            == 0
        )
    finally:
        await own.close()

    refused = (asyncpg.InsufficientPrivilegeError, asyncpg.InvalidAuthorizationSpecificationError)
    for elsewhere in (b.database_name, platform_url.database, "postgres", "template1"):
        with pytest.raises(refused):
            await asyncpg.connect(dsn=libpq_dsn(tenant_url(server_url, a, password_a).set(database=elsewhere)))
    # The privilege layer on its own (what protects a server whose pg_hba lets everyone try):
    async with connect(server_url.set(database="postgres")) as admin:
        for elsewhere in (b.database_name, platform_url.database, "postgres", "template1"):
            assert not await admin.fetchval(
                "SELECT has_database_privilege($1, $2, 'CONNECT')", a.database_role, elsewhere
            )
        assert await admin.fetchval(
            "SELECT has_database_privilege($1, $2, 'CONNECT')", a.database_role, a.database_name
        )
    with pytest.raises(asyncpg.InvalidPasswordError):
        await asyncpg.connect(dsn=libpq_dsn(tenant_url(server_url, a, "not-the-password")))


async def test_no_plaintext_password_is_stored_anywhere(
    make_tenant: TenantFactory,
    platform_sessions: async_sessionmaker[AsyncSession],
    vault: Vault,
    platform_url: URL,
    server_url: URL,
) -> None:
    tenant = await make_tenant()
    password = await tenant_password(platform_sessions, vault, tenant.id)
    async with connect(platform_url) as platform:
        for table in platform_metadata.tables:
            rows = await platform.fetch(f"SELECT t::text AS row FROM {table} AS t")  # noqa: S608 - table names from metadata
            assert not any(password in row["row"] for row in rows), f"plaintext password in {table}"
        raw = await platform.fetchval("SELECT database_password_encrypted FROM instances WHERE id = $1", tenant.id)
        assert raw.startswith("v1:")
    async with connect(server_url.set(database="postgres")) as admin:
        verifier = await admin.fetchval("SELECT rolpassword FROM pg_authid WHERE rolname = $1", tenant.database_role)
    assert verifier.startswith(f"SCRAM-SHA-256${TENANT_SCRAM_ITERATIONS}:")
    assert password not in verifier


async def test_the_migrations_path_gives_the_same_schema_as_the_template(
    make_tenant: TenantFactory,
    platform_sessions: async_sessionmaker[AsyncSession],
    vault: Vault,
    server_url: URL,
    default_server: object,
) -> None:
    templated = await make_tenant()
    migrated = await make_tenant(provision=False)
    await Provisioner(platform_sessions, vault, use_template=False).provision(migrated.id)

    async def tables(instance: Instance) -> set[tuple[str, str]]:
        assert instance.database_name is not None
        async with connect(server_url.set(database=instance.database_name)) as conn:
            rows = await conn.fetch(
                "SELECT tablename, tableowner = $1 AS owned FROM pg_tables WHERE schemaname = 'public'",
                instance.database_role,
            )
        return {(row["tablename"], str(row["owned"])) for row in rows}

    async with platform_sessions() as session:
        migrated_now = await session.get(Instance, migrated.id)
    assert migrated_now is not None
    assert migrated_now.status is InstanceStatus.READY
    assert migrated_now.schema_revision == templated.schema_revision
    assert await tables(migrated_now) == await tables(templated)


@pytest.mark.parametrize("step", STEPS)
async def test_a_failure_at_any_step_is_recorded_and_retry_completes(
    step: str,
    make_tenant: TenantFactory,
    platform_sessions: async_sessionmaker[AsyncSession],
    vault: Vault,
    server_url: URL,
) -> None:
    """The fault strikes after the step's work, before it is recorded: the retry must redo it safely."""

    async def crash(current: str, phase: Phase) -> None:
        if current == step and phase == "after":
            raise RuntimeError(f"injected failure in {current}")

    instance = await make_tenant(provision=False)
    with pytest.raises(ProvisioningFailedError) as failure:
        await Provisioner(platform_sessions, vault, on_step=crash).provision(instance.id)
    assert failure.value.step == step

    healthy = Provisioner(platform_sessions, vault)
    ledger = await healthy.steps(instance.id)
    assert ledger[step].status is ProvisioningStepStatus.FAILED
    assert "injected failure" in (ledger[step].error or "")
    assert all(ledger[done].status is ProvisioningStepStatus.DONE for done in STEPS[: STEPS.index(step)])
    async with platform_sessions() as session:
        failed = await session.get(Instance, instance.id)
        assert failed is not None
        assert failed.status is InstanceStatus.FAILED
        assert step in (failed.status_reason or "")

    await healthy.retry(instance.id)

    async with platform_sessions() as session:
        ready = await session.get(Instance, instance.id)
        events = list(
            await session.scalars(
                select(InstanceEvent.to_status)
                .where(InstanceEvent.instance_id == instance.id)
                .order_by(InstanceEvent.id)
            )
        )
    assert ready is not None
    assert ready.status is InstanceStatus.READY
    assert events == [
        InstanceStatus.PROVISIONING,
        InstanceStatus.FAILED,
        InstanceStatus.PROVISIONING,
        InstanceStatus.READY,
    ]
    password = await tenant_password(platform_sessions, vault, instance.id)
    conn = await asyncpg.connect(dsn=libpq_dsn(tenant_url(server_url, ready, password)))
    try:
        assert await conn.fetchval("SELECT instance_id FROM instance_config") == instance.id
    finally:
        await conn.close()


async def test_deprovision_leaves_no_database_and_no_role(
    make_tenant: TenantFactory, platform_sessions: async_sessionmaker[AsyncSession], vault: Vault, server_url: URL
) -> None:
    tenant = await make_tenant()
    for _ in range(2):  # the second run finds nothing to do
        async with platform_sessions() as session, session.begin():
            purged = await deprovision(session, vault, tenant.id)
    assert purged.status is InstanceStatus.PURGED
    assert purged.database_password_encrypted is None
    async with connect(server_url.set(database="postgres")) as admin:
        assert not await admin.fetchval("SELECT 1 FROM pg_database WHERE datname = $1", tenant.database_name)
        assert not await admin.fetchval("SELECT 1 FROM pg_roles WHERE rolname = $1", tenant.database_role)


async def test_reconcile_finds_and_drops_a_hand_made_orphan(
    make_tenant: TenantFactory, platform_sessions: async_sessionmaker[AsyncSession], vault: Vault, server_url: URL
) -> None:
    kept = await make_tenant()
    orphan = f"kh_tenant_{uuid.uuid4().hex}"
    async with connect(server_url.set(database="postgres")) as admin:
        await admin.execute(f'CREATE ROLE "{orphan}" LOGIN')
        await admin.execute(f'CREATE DATABASE "{orphan}" OWNER "{orphan}"')
    try:
        async with platform_sessions() as session:
            found = await find_orphans(session, vault)
            assert orphan in found[0].databases
            assert orphan in found[0].roles
            assert kept.database_name not in found[0].databases
            await drop_orphans(session, vault, found)
            assert not any(orphan in item.databases for item in await find_orphans(session, vault))
        async with connect(server_url.set(database="postgres")) as admin:
            assert not await admin.fetchval("SELECT 1 FROM pg_database WHERE datname = $1", orphan)
            assert await admin.fetchval("SELECT 1 FROM pg_database WHERE datname = $1", kept.database_name)
    finally:
        async with connect(server_url.set(database="postgres")) as admin:
            await admin.execute(f'DROP DATABASE IF EXISTS "{orphan}" WITH (FORCE)')
            await admin.execute(f'DROP ROLE IF EXISTS "{orphan}"')


async def test_a_half_provisioned_database_is_closed_to_everyone_else(
    make_tenant: TenantFactory,
    platform_sessions: async_sessionmaker[AsyncSession],
    vault: Vault,
    server_url: URL,
) -> None:
    other = await make_tenant()

    async def crash(step: str, phase: Phase) -> None:
        if (step, phase) == ("database", "after"):
            raise RuntimeError("injected")

    failed = await make_tenant(provision=False)
    with pytest.raises(ProvisioningFailedError):
        await Provisioner(platform_sessions, vault, on_step=crash).provision(failed.id)
    async with platform_sessions() as session:
        row = await session.get(Instance, failed.id)
    assert row is not None
    assert row.status is InstanceStatus.FAILED
    async with connect(server_url.set(database="postgres")) as admin:
        assert await admin.fetchval("SELECT 1 FROM pg_database WHERE datname = $1", row.database_name)
        for stranger in ("public", other.database_role):
            assert not await admin.fetchval(
                "SELECT has_database_privilege($1, $2, 'CONNECT')", stranger, row.database_name
            )


async def test_a_provisioning_whose_process_died_can_be_resumed(
    make_tenant: TenantFactory, platform_sessions: async_sessionmaker[AsyncSession], vault: Vault
) -> None:
    """A cancelled run (a killed worker) records nothing: the instance stays PROVISIONING, and
    retry resumes it once no provisioner holds it."""
    started = asyncio.Event()

    async def hang(step: str, phase: Phase) -> None:
        if (step, phase) == ("database", "after"):
            started.set()
            await asyncio.sleep(3600)

    instance = await make_tenant(provision=False)
    running = asyncio.create_task(Provisioner(platform_sessions, vault, on_step=hang).provision(instance.id))
    await started.wait()
    with pytest.raises(ProvisioningInProgressError):  # a second worker may not interfere
        await Provisioner(platform_sessions, vault).retry(instance.id)
    running.cancel()
    with pytest.raises(asyncio.CancelledError):
        await running

    await Provisioner(platform_sessions, vault).retry(instance.id)
    async with platform_sessions() as session:
        resumed = await session.get(Instance, instance.id)
    assert resumed is not None
    assert resumed.status is InstanceStatus.READY


async def test_reconcile_never_drops_a_name_claimed_after_it_looked(
    make_tenant: TenantFactory, platform_sessions: async_sessionmaker[AsyncSession], vault: Vault, server_url: URL
) -> None:
    """An instance placed between find and drop claims its names: drop_orphans re-checks."""
    name = f"kh_tenant_{uuid.uuid4().hex}"
    async with connect(server_url.set(database="postgres")) as admin:
        await admin.execute(f'CREATE ROLE "{name}" LOGIN')
        await admin.execute(f'CREATE DATABASE "{name}" OWNER "{name}"')
    try:
        async with platform_sessions() as session:
            found = await find_orphans(session, vault)
        assert name in found[0].databases
        claimant = await make_tenant(provision=False)
        async with platform_sessions() as session, session.begin():
            row = await session.get(Instance, claimant.id)
            assert row is not None
            row.database_server_id = await session.scalar(select(DatabaseServer.id))
            row.database_name = row.database_role = name
        async with platform_sessions() as session:
            dropped = await drop_orphans(session, vault, found)
        assert name not in dropped
        async with connect(server_url.set(database="postgres")) as admin:
            assert await admin.fetchval("SELECT 1 FROM pg_database WHERE datname = $1", name)
    finally:
        async with connect(server_url.set(database="postgres")) as admin:
            await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            await admin.execute(f'DROP ROLE IF EXISTS "{name}"')
