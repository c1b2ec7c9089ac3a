"""Retired tenant engines are lent to the next tenant of their server, and reach only its database."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from typing import Any

import pytest
from sqlalchemy import event, text
from sqlalchemy.engine import URL
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from kitehub.platform.instances.models import Instance
from kitehub.provisioning.tenant_engines import TenantEngines, TenantTargetError
from kitehub.provisioning.vault import Vault
from tests.conftest import TenantFactory, tenant_password, tenant_url
from tests.support import connect


@dataclass(frozen=True)
class Tenant:
    instance: Instance
    url: URL  # its own role, password and database


@pytest.fixture
async def two_tenants(
    make_tenant: TenantFactory, platform_sessions: async_sessionmaker[AsyncSession], vault: Vault, server_url: URL
) -> tuple[Tenant, Tenant]:
    made = [await make_tenant() for _ in range(2)]
    urls = [tenant_url(server_url, m, await tenant_password(platform_sessions, vault, m.id)) for m in made]
    return Tenant(made[0], urls[0]), Tenant(made[1], urls[1])


async def _who(engine: AsyncEngine) -> tuple[str, str, int]:
    async with engine.connect() as conn:
        row = (await conn.execute(text("SELECT current_database(), current_user, count(*) FROM courses"))).one()
    return row[0], row[1], row[2]


@pytest.fixture
def builder() -> TenantEngines:
    return TenantEngines(pool_size=2, pool_timeout=5, pool_recycle=60, connect_args={})


async def test_a_retired_engine_serves_the_next_tenant_and_only_its_database(
    two_tenants: tuple[Tenant, Tenant], builder: TenantEngines
) -> None:
    first, second = two_tenants
    engine = builder.build(first.url)
    async with engine.begin() as conn:  # a row only the first tenant has
        await conn.execute(text("INSERT INTO courses (name, fee, grade_scale) VALUES ('Maths', 0, 10)"))
    assert await _who(engine) == (first.instance.database_name, first.instance.database_role, 1)

    await builder.retire(engine)
    again = builder.build(second.url)

    try:
        assert again is engine  # the same engine object, lent again
        assert builder.reused == 1
        assert await _who(again) == (second.instance.database_name, second.instance.database_role, 0)
        assert again.url.database == second.instance.database_name
    finally:
        await builder.close()
        await again.dispose()


async def test_an_engine_retired_while_a_connection_is_lent_is_not_reused(
    two_tenants: tuple[Tenant, Tenant], builder: TenantEngines
) -> None:
    first, second = two_tenants
    engine = builder.build(first.url)
    conn = await engine.connect()
    try:
        await builder.retire(engine)
        other = builder.build(second.url)
        assert other is not engine
        assert builder.reused == 0
        with pytest.raises(TenantTargetError):  # a retired engine opens no connection at all
            await engine.connect()
    finally:
        await conn.close()
        await other.dispose()
        await builder.close()


async def test_a_connection_that_reaches_another_role_is_refused(
    two_tenants: tuple[Tenant, Tenant], builder: TenantEngines, server_url: URL
) -> None:
    first, second = two_tenants
    first_url = first.url
    await builder.retire(builder.build(first_url))
    engine = builder.build(second.url)  # the first one's, lent again
    assert builder.reused == 1

    @event.listens_for(engine.sync_engine, "do_connect")
    def wrong_target(_dialect: Any, _record: Any, _cargs: list[Any], cparams: dict[str, Any]) -> None:
        # a bug after the builder's own listener: the first tenant's credentials and database
        cparams.update(user=first_url.username, password=first_url.password, database=first_url.database)

    try:
        with pytest.raises(TenantTargetError, match="reached role"):
            await engine.connect()
        await asyncio.sleep(0.2)  # the server ends a closed session's process
        async with connect(server_url.set(database="postgres")) as admin:  # that connection was closed
            sql = "SELECT count(*) FROM pg_stat_activity WHERE usename = $1"
            assert await admin.fetchval(sql, first.instance.database_role) == 0
    finally:
        await engine.dispose()
