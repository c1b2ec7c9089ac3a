"""The router: each request reaches its own tenant, and connections never exceed the bound."""

from __future__ import annotations

import asyncio
import contextlib
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime

import pytest
from sqlalchemy import text
from sqlalchemy.engine import URL
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from kitehub.errors import InvalidInputError, NotFoundError, PermissionDeniedError
from kitehub.platform.instances.models import Instance, InstanceStatus
from kitehub.provisioning.engine_cache import TenantConnectionsBusyError
from kitehub.provisioning.router import APPLICATION_NAME, TenantRouter
from kitehub.provisioning.vault import Vault
from kitehub.tenant.health.services import tenant_health
from tests.conftest import TenantFactory
from tests.support import connect

BASE = "kitehub.localhost"


@contextlib.asynccontextmanager
async def _router(
    sessions: async_sessionmaker[AsyncSession], vault: Vault, *, max_engines: int, pool_size: int
) -> AsyncIterator[TenantRouter]:
    router = TenantRouter(
        platform_sessions=sessions, vault=vault, base_domain=BASE, max_engines=max_engines, pool_size=pool_size
    )
    try:
        yield router
    finally:
        await router.close()


@contextlib.asynccontextmanager
async def _connection_sampler(server_url: URL) -> AsyncIterator[list[int]]:
    """Counts the router's connections in pg_stat_activity every few milliseconds."""
    samples: list[int] = []
    async with connect(server_url.set(database="postgres")) as conn:

        async def sample() -> None:
            while True:
                samples.append(
                    await conn.fetchval(
                        "SELECT count(*) FROM pg_stat_activity WHERE application_name = $1", APPLICATION_NAME
                    )
                )
                await asyncio.sleep(0.002)

        task = asyncio.create_task(sample())
        try:
            yield samples
        finally:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task


async def _ask(router: TenantRouter, tenant: Instance, hold_seconds: float = 0.0) -> uuid.UUID:
    resolved = await router.resolve(f"{tenant.subdomain}.{BASE}", None, "GET")
    async with router.session(resolved) as session:
        health = await tenant_health(session)
        if hold_seconds:
            await session.execute(text("SELECT pg_sleep(:s)"), {"s": hold_seconds})
    return health.instance


async def test_five_tenants_through_two_engines_stay_within_the_bound(
    make_tenant: TenantFactory,
    platform_sessions: async_sessionmaker[AsyncSession],
    vault: Vault,
    server_url: URL,
) -> None:
    tenants = [await make_tenant() for _ in range(5)]
    max_engines, pool_size = 2, 2
    async with (
        _router(platform_sessions, vault, max_engines=max_engines, pool_size=pool_size) as router,
        _connection_sampler(server_url) as samples,
    ):
        for _ in range(3):  # round robin: every request evicts
            for tenant in tenants:
                assert await _ask(router, tenant) == tenant.id
                assert router.engines.stats().engines_cached <= max_engines

        # Concurrent requests holding their connections: some must wait for a free engine.
        answers = await asyncio.gather(*(_ask(router, tenants[i % 5], 0.02) for i in range(30)))
        assert answers == [tenants[i % 5].id for i in range(30)]
        stats = router.stats()
        await asyncio.sleep(0.05)

    assert stats["engines_cached"] <= max_engines
    assert stats["evictions"] >= 15
    assert stats["misses"] >= 15
    assert stats["engines_reused"] >= 10  # evicted engines served the next tenants, each its own database
    assert stats["hits"] >= 1
    assert stats["waits"] >= 1  # the bound was enforced by waiting, not by luck
    assert samples, "the sampler saw nothing"
    assert max(samples) <= max_engines * pool_size
    assert max(samples) >= 1
    # close() released everything: the sockets are closed without a goodbye, so each server
    # process ends once it reads the end of its socket (at once on an idle machine, a moment
    # later on a loaded one)
    async with connect(server_url.set(database="postgres")) as conn:
        deadline = asyncio.get_running_loop().time() + 5
        while (left := await conn.fetchval(  # noqa: ASYNC110 - polling another server
            "SELECT count(*) FROM pg_stat_activity WHERE application_name = $1", APPLICATION_NAME
        )) and asyncio.get_running_loop().time() < deadline:  # fmt: skip
            await asyncio.sleep(0.05)
        assert left == 0


async def test_resolution_by_host_header_and_verified_custom_domain(
    make_tenant: TenantFactory, platform_sessions: async_sessionmaker[AsyncSession], vault: Vault
) -> None:
    tenant = await make_tenant()
    async with platform_sessions() as session, session.begin():
        row = await session.get(Instance, tenant.id)
        assert row is not None
        row.custom_domain = "hoc.example.vn"
    async with _router(platform_sessions, vault, max_engines=2, pool_size=1) as router:
        assert (await router.resolve(f"{tenant.subdomain}.{BASE}:8000", None, "GET")).instance_id == tenant.id
        assert (await router.resolve("127.0.0.1:8000", tenant.subdomain, "GET")).instance_id == tenant.id
        assert (await router.resolve(BASE, tenant.subdomain.upper(), "GET")).instance_id == tenant.id
        with pytest.raises(NotFoundError):  # not verified yet: a domain anyone could claim
            await router.resolve("hoc.example.vn", None, "GET")
        async with platform_sessions() as session, session.begin():
            row = await session.get(Instance, tenant.id)
            assert row is not None
            row.custom_domain_verified_at = datetime.now(UTC)
        await _eventually(lambda: router.resolve("hoc.example.vn", None, "GET"))
        with pytest.raises(InvalidInputError, match="different instances"):
            await router.resolve(f"{tenant.subdomain}.{BASE}", "someone-else", "GET")
        with pytest.raises(NotFoundError):
            await router.resolve(f"nobody.{BASE}", None, "GET")
        with pytest.raises(NotFoundError):
            await router.resolve("localhost:8000", None, "GET")


async def test_a_change_made_elsewhere_takes_effect_at_once(
    make_tenant: TenantFactory,
    platform_sessions: async_sessionmaker[AsyncSession],
    vault: Vault,
    platform_url: URL,
) -> None:
    """Another process suspends the instance: the cached resolution is dropped by NOTIFY."""
    tenant = await make_tenant()
    async with _router(platform_sessions, vault, max_engines=2, pool_size=1) as router:
        await router.listen(_dsn(platform_url))
        await asyncio.sleep(0.2)  # the listener connects in the background
        host = f"{tenant.subdomain}.{BASE}"
        assert (await router.resolve(host, None, "GET")).status is InstanceStatus.READY
        async with connect(platform_url) as other_process:
            await other_process.execute("UPDATE instances SET status = 'SUSPENDED' WHERE id = $1", tenant.id)

        async def suspended() -> None:
            with pytest.raises(PermissionDeniedError):
                await router.resolve(host, None, "GET")

        await _eventually(suspended, within=1.0)  # far below the cache's time-to-live of 5 s


def _dsn(url: URL) -> str:
    from kitehub.db import libpq_dsn

    return libpq_dsn(url)


async def _eventually(check: object, within: float = 2.0) -> None:
    deadline = asyncio.get_running_loop().time() + within
    while True:
        try:
            await check()  # type: ignore[operator]
            return
        except (AssertionError, NotFoundError, pytest.fail.Exception):
            if asyncio.get_running_loop().time() > deadline:
                raise
            await asyncio.sleep(0.05)


async def test_when_every_engine_is_busy_a_request_waits_then_gets_a_503(
    make_tenant: TenantFactory, platform_sessions: async_sessionmaker[AsyncSession], vault: Vault
) -> None:
    first, second = await make_tenant(), await make_tenant()
    async with _router(platform_sessions, vault, max_engines=1, pool_size=1) as router:
        router.engines.acquire_timeout_seconds = 0.3
        held = await router.resolve(f"{first.subdomain}.{BASE}", None, "GET")
        other = await router.resolve(f"{second.subdomain}.{BASE}", None, "GET")
        async with router.session(held):
            with pytest.raises(TenantConnectionsBusyError) as busy:
                async with router.session(other):
                    pass
        assert busy.value.status_code == 503
        assert await _ask(router, second) == second.id  # free again: served


async def test_a_tenants_custom_domain_cannot_be_redirected_by_header(
    make_tenant: TenantFactory, platform_sessions: async_sessionmaker[AsyncSession], vault: Vault
) -> None:
    owner, other = await make_tenant(), await make_tenant()
    async with platform_sessions() as session, session.begin():
        row = await session.get(Instance, owner.id)
        assert row is not None
        row.custom_domain, row.custom_domain_verified_at = "truong.example.vn", datetime.now(UTC)
    async with _router(platform_sessions, vault, max_engines=2, pool_size=1) as router:
        with pytest.raises(InvalidInputError):
            await router.resolve("truong.example.vn", other.subdomain, "GET")
        assert (await router.resolve("truong.example.vn", owner.subdomain, "GET")).instance_id == owner.id
        # a host that is nobody's custom domain (the platform under another name) takes the header
        assert (await router.resolve("platform.example.com", other.subdomain, "GET")).instance_id == other.id


async def test_the_router_connects_as_the_tenants_own_role(
    make_tenant: TenantFactory, platform_sessions: async_sessionmaker[AsyncSession], vault: Vault
) -> None:
    tenant = await make_tenant()
    async with _router(platform_sessions, vault, max_engines=1, pool_size=1) as router:
        resolved = await router.resolve(f"{tenant.subdomain}.{BASE}", None, "GET")
        async with router.session(resolved) as session:
            user = (await session.execute(text("SELECT current_user, session_user"))).one()
    assert tuple(user) == (tenant.database_role, tenant.database_role)


async def test_a_lookup_racing_an_invalidation_is_not_cached(
    make_tenant: TenantFactory,
    platform_sessions: async_sessionmaker[AsyncSession],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A lookup that read the row before a change was announced must not keep serving it."""
    from kitehub.provisioning import resolution

    tenant = await make_tenant()
    cache = resolution.ResolutionCache(platform_sessions, ttl_seconds=60)
    read, release = asyncio.Event(), asyncio.Event()
    real_load = resolution.load_tenant

    async def slow_load(session: AsyncSession, key: resolution.LookupKey) -> resolution.ResolvedTenant | None:
        found = await real_load(session, key)
        read.set()
        await release.wait()
        return found

    monkeypatch.setattr(resolution, "load_tenant", slow_load)
    key = resolution.LookupKey("subdomain", tenant.subdomain)
    lookup = asyncio.create_task(cache.resolve(key))
    await read.wait()
    cache.forget_instance(tenant.id)  # the change notification arrives mid-lookup
    release.set()
    await lookup

    monkeypatch.setattr(resolution, "load_tenant", real_load)
    misses = cache.misses
    await cache.resolve(key)
    assert cache.misses == misses + 1  # looked up again, not served from the stale entry
