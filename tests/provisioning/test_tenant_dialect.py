"""Tenant engines share their server's compiled SQL, and only their server's."""

from __future__ import annotations

import uuid

from sqlalchemy import String, literal_column, select
from sqlalchemy.engine.interfaces import CacheStats
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from kitehub.provisioning.router import TenantRouter
from kitehub.provisioning.servers import server_url
from kitehub.provisioning.tenant_dialect import create_tenant_engine
from kitehub.provisioning.vault import Vault
from tests.conftest import TenantFactory

BASE = "kitehub.localhost"


async def test_a_query_compiled_for_one_tenant_is_reused_for_the_next_on_the_same_server(
    make_tenant: TenantFactory, platform_sessions: async_sessionmaker[AsyncSession], vault: Vault
) -> None:
    tenants = [await make_tenant() for _ in range(2)]
    marker = uuid.uuid4().hex  # a statement no other test compiled
    query = select(
        literal_column(f"'{marker}'", String).label("marker"), literal_column("current_database()", String).label("db")
    )
    router = TenantRouter(
        platform_sessions=platform_sessions, vault=vault, base_domain=BASE, max_engines=2, pool_size=1
    )
    seen = []
    try:
        for tenant in tenants:
            resolved = await router.resolve(f"{tenant.subdomain}.{BASE}", None, "GET")
            async with router.session(resolved) as session:
                result = await (await session.connection()).execute(query)
                seen.append((result.one().db, result.context.cache_hit))
    finally:
        await router.close()
    assert seen == [(tenants[0].database_name, CacheStats.CACHE_MISS), (tenants[1].database_name, CacheStats.CACHE_HIT)]


async def test_tenant_engines_of_different_servers_do_not_share_compiled_sql() -> None:
    def engine(host: str, port: int) -> AsyncEngine:
        return create_tenant_engine(
            server_url(host, port, username="t", password="p", database="kh_tenant_x"),
            pool_size=1, pool_timeout=1, pool_recycle=60, connect_args={},
        )  # fmt: skip

    engines = [engine("db1", 5432), engine("db1", 5432), engine("db1", 5433), engine("db2", 5432),
               engine("/run/pg", 5432), engine("/run/pg", 5432), engine("/run/pg", 5433)]  # fmt: skip
    try:
        dialects = [engine.dialect for engine in engines]
        assert dialects[0] == dialects[1]
        assert hash(dialects[0]) == hash(dialects[1])
        assert dialects[0] != dialects[2]
        assert dialects[0] != dialects[3]
        assert dialects[4] == dialects[5]  # one Unix socket directory and port
        assert dialects[4] != dialects[6]  # a second server in the same socket directory
    finally:
        for engine_ in engines:
            await engine_.dispose()
