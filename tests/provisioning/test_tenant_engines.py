"""Retired tenant engines are lent to the next tenant of their server, and reach only its database."""

from __future__ import annotations

import asyncio
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


async def _url(instance: Instance, sessions: async_sessionmaker[AsyncSession], vault: Vault, server: URL) -> URL:
    return tenant_url(server, instance, await tenant_password(sessions, vault, instance.id))


async def _who(engine: AsyncEngine) -> tuple[str, str, int]:
    async with engine.connect() as conn:
        row = (await conn.execute(text("SELECT current_database(), current_user, count(*) FROM courses"))).one()
    return row[0], row[1], row[2]


@pytest.fixture
def builder() -> TenantEngines:
    return TenantEngines(pool_size=2, pool_timeout=5, pool_recycle=60, connect_args={})


async def test_a_retired_engine_serves_the_next_tenant_and_only_its_database(
    make_tenant: TenantFactory,
    platform_sessions: async_sessionmaker[AsyncSession],
    vault: Vault,
    server_url: URL,
    builder: TenantEngines,
) -> None:
    first, second = await make_tenant(), await make_tenant()
    first_url = await _url(first, platform_sessions, vault, server_url)
    engine = builder.build(first_url)
    async with engine.begin() as conn:  # a row only the first tenant has
        await conn.execute(text("INSERT INTO courses (name, fee, grade_scale) VALUES ('Maths', 0, 10)"))
    assert await _who(engine) == (first.database_name, first.database_role, 1)

    await builder.retire(engine)
    again = builder.build(await _url(second, platform_sessions, vault, server_url))

    try:
        assert again is engine  # the same engine object, lent again
        assert builder.reused == 1
        assert await _who(again) == (second.database_name, second.database_role, 0)
        assert again.url.database == second.database_name
    finally:
        await builder.close()
        await again.dispose()


async def test_an_engine_retired_while_a_connection_is_lent_is_not_reused(
    make_tenant: TenantFactory,
    platform_sessions: async_sessionmaker[AsyncSession],
    vault: Vault,
    server_url: URL,
    builder: TenantEngines,
) -> None:
    first, second = await make_tenant(), await make_tenant()
    engine = builder.build(await _url(first, platform_sessions, vault, server_url))
    conn = await engine.connect()
    try:
        await builder.retire(engine)
        other = builder.build(await _url(second, platform_sessions, vault, server_url))
        assert other is not engine
        assert builder.reused == 0
        with pytest.raises(TenantTargetError):  # a retired engine opens no connection at all
            await engine.connect()
    finally:
        await conn.close()
        await other.dispose()
        await builder.close()


async def test_a_connection_that_reaches_another_role_is_refused(
    make_tenant: TenantFactory,
    platform_sessions: async_sessionmaker[AsyncSession],
    vault: Vault,
    server_url: URL,
    builder: TenantEngines,
) -> None:
    first, second = await make_tenant(), await make_tenant()
    first_url = await _url(first, platform_sessions, vault, server_url)
    await builder.retire(builder.build(first_url))
    engine = builder.build(await _url(second, platform_sessions, vault, server_url))  # the first one's, lent again
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
            assert await admin.fetchval(sql, first.database_role) == 0
    finally:
        await engine.dispose()
