"""Routed tenant requests: what the connection router costs, and how it behaves under churn.

Runs on a throw-away embedded PostgreSQL with N provisioned tenants (default 500). Prints:
- requests/s of ``GET /tenant/v1/courses`` through the full app (Host lookup, owner check, gate,
  engine cache) against the same handler on a fixed engine (the same owner check, no routing),
  measured in alternating rounds of one run, and their ratio (target >= 0.90);
- with the N tenants hit round robin under ``KITEHUB_ROUTER_MAX_ENGINES`` (default 50), p50/p99
  latency against the warm p99 (only as many tenants as the cache holds; target: churn p99 <=
  3 x warm p99), both the median of three alternating rounds, and the peak number of tenant
  connections on the server, sampled every 10 ms, against the bound
  ``ROUTER_MAX_ENGINES x TENANT_POOL_SIZE``.

Usage: uv run python -m bench.tenant_requests [-n 500] [--requests 3000] [--concurrency 8] [--max-engines 50]
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import statistics
import time
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from tempfile import TemporaryDirectory
from typing import Any

import asyncpg
import httpx
from litestar import Litestar, Request, Router
from litestar.datastructures import State
from litestar.di import NamedDependency, Provide
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker, create_async_engine

from bench.common import bench_platform
from bench.provision import new_instances, percentile, provision_all
from kitehub.app import KiteHubApp, create_app
from kitehub.db import committing, libpq_dsn, provide_platform_session
from kitehub.errors import problem_exception_handlers
from kitehub.platform.accounts.tokens import issue_access_token
from kitehub.platform.instances.models import Instance
from kitehub.provisioning.credentials import database_password_location
from kitehub.provisioning.provisioner import Provisioner
from kitehub.provisioning.resolution import LookupKey, ResolvedTenant, load_tenant
from kitehub.provisioning.servers import server_url
from kitehub.settings import Settings, load_settings
from kitehub.tenant.auth import TenantIdentity, provide_tenant_caller, provide_tenant_identity
from kitehub.tenant.courses.controllers import CourseController

BASE_DOMAIN = "bench.localhost"
PATH = "/tenant/v1/courses"
ROUNDS = 3


def fixed_engine_app(settings: Settings, sessions: async_sessionmaker[AsyncSession], tenant: ResolvedTenant,
                     url: Any) -> Litestar:  # fmt: skip
    """The same handler and owner check on one engine built up front: no lookup, gate or cache."""
    engine = create_async_engine(url, pool_size=settings.tenant_pool_size, max_overflow=0, hide_parameters=True)

    async def fixed_tenant() -> ResolvedTenant:
        return tenant

    async def fixed_session(
        request: Request[Any, Any, Any], tenant_identity: NamedDependency[TenantIdentity]
    ) -> AsyncIterator[AsyncSession]:
        async with AsyncSession(engine, expire_on_commit=False) as session, committing(session):
            request.state.tenant_caller = await tenant_identity.verify(session)
            yield session

    @asynccontextmanager
    async def lifespan(_: Litestar) -> AsyncIterator[None]:
        yield
        await engine.dispose()

    router = Router(
        path="/tenant/v1",
        route_handlers=[CourseController],
        dependencies={
            "tenant": Provide(fixed_tenant),
            "tenant_identity": Provide(provide_tenant_identity),
            "tenant_session": Provide(fixed_session),
            "tenant_caller": Provide(provide_tenant_caller),
        },
    )
    return KiteHubApp(  # the same outer layer (request ids, access log) as the real app
        route_handlers=[router],
        dependencies={"platform_session": Provide(provide_platform_session)},
        exception_handlers=problem_exception_handlers(),
        state=State({"settings": settings, "platform_sessions": sessions}),
        lifespan=[lifespan],
        logging_config=None,
    )


async def hammer(client: httpx.AsyncClient, hosts: list[str], headers: dict[str, str], count: int,
                 concurrency: int) -> tuple[float, list[float]]:  # fmt: skip
    """``count`` requests round robin over ``hosts``: (requests/s, latencies)."""
    latencies: list[float] = []
    next_request = iter(range(count))

    async def worker() -> None:
        for n in next_request:
            began = time.perf_counter()
            response = await client.get(PATH, headers={"Host": hosts[n % len(hosts)], **headers})
            latencies.append(time.perf_counter() - began)
            if response.status_code != 200:
                raise RuntimeError(f"{response.status_code}: {response.text[:200]}")

    began = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(concurrency)))
    return count / (time.perf_counter() - began), latencies


class ConnectionSampler:
    """The number of tenant-role connections on the server, every 10 ms, while traffic runs."""

    def __init__(self, dsn: str) -> None:
        self.dsn, self.peak, self._stop = dsn, 0, asyncio.Event()

    async def run(self) -> None:
        conn = await asyncpg.connect(dsn=self.dsn)
        try:
            while not self._stop.is_set():
                count = await conn.fetchval("SELECT count(*) FROM pg_stat_activity WHERE usename LIKE 'kh_tenant_%'")
                self.peak = max(self.peak, int(count))
                await asyncio.sleep(0.01)
        finally:
            await conn.close()

    def stop(self) -> None:
        self._stop.set()


async def main(count: int, requests: int, concurrency: int, max_engines: int) -> None:
    async with bench_platform() as platform:
        sessions, vault = platform.sessions, platform.vault
        print(f"provisioning {count} tenants...", flush=True)
        ids = await new_instances(sessions, count)
        await provision_all(Provisioner(sessions, vault), ids, 4)
        async with sessions() as session:
            subdomains = [row.subdomain for row in [await session.get(Instance, i) for i in ids] if row is not None]
            owner_id = (await session.get(Instance, ids[0])).owner_id  # type: ignore[union-attr]
            first = await load_tenant(session, LookupKey("subdomain", subdomains[0]))
        assert first is not None
        assert first.password_encrypted is not None
        assert first.server_host is not None
        with TemporaryDirectory() as data_dir:
            settings = load_settings(
                env="test", data_dir=Path(data_dir), base_domain=BASE_DOMAIN, log_level="WARNING",
                database_url=platform.url.render_as_string(hide_password=False),
                encryption_keys=platform.encryption_keys, jwt_secret=uuid.uuid4().hex * 2,
                router_max_engines=max_engines,
            )  # fmt: skip
            assert settings.jwt_secret is not None
            token = issue_access_token(settings.jwt_secret.get_secret_value(), owner_id, "owner").token
            owner = {"Authorization": f"Bearer {token}"}
            password = vault.decrypt(first.password_encrypted, database_password_location(first.instance_id))
            tenant_db = server_url(first.server_host, first.server_port or 5432, username=first.database_role or "",
                                   password=password, database=first.database_name or "")  # fmt: skip
            routed_app, fixed_app = create_app(settings), fixed_engine_app(settings, sessions, first, tenant_db)
            gc.collect()
            gc.freeze()  # what `kitehub serve` does once the app is built
            async with (
                routed_app.lifespan(),
                fixed_app.lifespan(),
                httpx.AsyncClient(transport=httpx.ASGITransport(app=routed_app), base_url="http://b") as routed,  # type: ignore[arg-type]
                httpx.AsyncClient(transport=httpx.ASGITransport(app=fixed_app), base_url="http://b") as fixed,  # type: ignore[arg-type]
            ):
                await ratio(routed, fixed, f"{subdomains[0]}.{BASE_DOMAIN}", owner, requests, concurrency)
                await churn(routed, subdomains, owner, settings, requests, concurrency, libpq_dsn(platform.url))


async def ratio(routed: httpx.AsyncClient, fixed: httpx.AsyncClient, host: str, owner: dict[str, str],
                requests: int, concurrency: int) -> None:  # fmt: skip
    await hammer(routed, [host], owner, 200, concurrency)  # warm-up: imports, caches, pools
    await hammer(fixed, [host], owner, 200, concurrency)
    routed_rates, fixed_rates = [], []
    for _ in range(3):  # alternating rounds: both see the same machine state
        routed_rates.append((await hammer(routed, [host], owner, requests, concurrency))[0])
        fixed_rates.append((await hammer(fixed, [host], owner, requests, concurrency))[0])
    r, f = statistics.median(routed_rates), statistics.median(fixed_rates)
    print(f"routed GET {PATH}        {r:8.0f} req/s (median of 3 rounds of {requests})")
    print(f"fixed engine, no routing  {f:8.0f} req/s")
    print(f"routed / fixed            {r / f:8.2f}   (target >= 0.90)")


async def churn(routed: httpx.AsyncClient, subdomains: list[str], owner: dict[str, str], settings: Settings,
                requests: int, concurrency: int, platform_dsn: str) -> None:  # fmt: skip
    """Warm and churn measured in alternating rounds (a p99 is noisy; medians of three are not)."""
    hosts = [f"{subdomain}.{BASE_DOMAIN}" for subdomain in subdomains]
    spare = max(1, settings.router_max_engines // 10)  # the slots the engine cache keeps free
    warm_hosts = hosts[: max(1, settings.router_max_engines - spare - concurrency)]
    sampler = ConnectionSampler(platform_dsn)
    sampling = asyncio.create_task(sampler.run())
    warm_rounds: list[list[float]] = []
    churn_rounds: list[list[float]] = []
    for _ in range(ROUNDS):
        await hammer(routed, warm_hosts, owner, len(warm_hosts) * 2, concurrency)  # cache them again
        warm_rounds.append((await hammer(routed, warm_hosts, owner, requests, concurrency))[1])
        churn_rounds.append((await hammer(routed, hosts, owner, max(requests, len(hosts) * 3), concurrency))[1])
    sampler.stop()
    await sampling
    bound = settings.router_max_engines * settings.tenant_pool_size
    warm_p99 = statistics.median(percentile(latencies, 0.99) for latencies in warm_rounds)
    churn_p99 = statistics.median(percentile(latencies, 0.99) for latencies in churn_rounds)
    warm_p50 = statistics.median(statistics.median(latencies) for latencies in warm_rounds)
    churn_p50 = statistics.median(statistics.median(latencies) for latencies in churn_rounds)
    print(f"warm:  {len(warm_hosts)} tenants, all cached     p50 {warm_p50 * 1000:6.1f} ms   "
          f"p99 {warm_p99 * 1000:6.1f} ms   (medians of {ROUNDS} rounds)")  # fmt: skip
    print(f"churn: {len(hosts)} tenants, {settings.router_max_engines} engines   p50 {churn_p50 * 1000:6.1f} ms   "
          f"p99 {churn_p99 * 1000:6.1f} ms   ({churn_p99 / warm_p99:.2f} x warm p99; target <= 3)")  # fmt: skip
    print(f"peak tenant connections   {sampler.peak} (bound {bound} = max engines x pool size)")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("-n", type=int, default=500, help="tenants (default 500)")
    parser.add_argument("--requests", type=int, default=3000, help="requests per measurement (default 3000)")
    parser.add_argument("--concurrency", type=int, default=8, help="requests at once (default 8)")
    parser.add_argument("--max-engines", type=int, default=50, help="KITEHUB_ROUTER_MAX_ENGINES (default 50)")
    args = parser.parse_args()
    asyncio.run(main(args.n, args.requests, args.concurrency, args.max_engines))
