"""Provisioning speed: tenants/s and time-to-READY, template path vs migrations path.

Runs on a throw-away embedded PostgreSQL. Prints, for N tenants (default 100):
- the raw ``CREATE DATABASE ... TEMPLATE`` time measured in the same run;
- p50/p95 time-to-READY one tenant at a time, and its ratio to the raw clone (target <= 2.5x);
- tenants/s with concurrent provisioning (target >= 10/s on the template path);
- the process's memory growth per cached tenant engine (target <= 1 MiB).

Usage: uv run python -m bench.provision [-n 100] [--concurrency 8]
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import statistics
import time
import tracemalloc
import uuid

import asyncpg
import psutil
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bench.common import bench_platform
from kitehub import pg_admin
from kitehub.db import libpq_dsn
from kitehub.platform.accounts.services import ensure_owner_account
from kitehub.platform.instances.models import Instance
from kitehub.platform.instances.services import create_instance
from kitehub.provisioning.provisioner import Provisioner
from kitehub.provisioning.router import TenantRouter
from kitehub.provisioning.servers import admin_url
from kitehub.provisioning.template import ensure_template
from kitehub.provisioning.vault import Vault
from kitehub.tenant.health.services import tenant_health


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(share * (len(ordered) - 1)))]


async def new_instances(sessions: async_sessionmaker[AsyncSession], count: int) -> list[uuid.UUID]:
    async with sessions() as session, session.begin():
        owner = await ensure_owner_account(session, "bench@example.com")
        ids = []
        for _ in range(count):
            instance = await create_instance(
                session,
                owner_id=owner.id,
                subdomain=f"b-{uuid.uuid4().hex[:12]}",
                organization_name="bench",
                tier_code="BASIC",
                trial_days=14,
            )
            ids.append(instance.id)
    return ids


class TenantTraffic:
    """Tenant requests (resolve, connect, read) running while tenants are being provisioned."""

    def __init__(self, router: TenantRouter, subdomains: list[str]) -> None:
        self.router, self.subdomains, self.served = router, subdomains, 0

    async def run(self, stop: asyncio.Event) -> None:
        while self.subdomains and not stop.is_set():
            for subdomain in self.subdomains:
                tenant = await self.router.resolve(f"{subdomain}.bench.localhost", None, "GET")
                async with self.router.session(tenant) as session:
                    await tenant_health(session)
                self.served += 1
                await asyncio.sleep(0)


async def provision_all(
    provisioner: Provisioner,
    ids: list[uuid.UUID],
    concurrency: int,
    raw_clone: RawClone | None = None,
    traffic: TenantTraffic | None = None,
) -> tuple[list[float], float]:
    """Per-tenant time-to-READY and the wall time of the whole batch.

    With ``raw_clone``, one bare clone is timed after each tenant, so both are measured on the
    cluster in the same state (clones slow down as the cluster fills).
    """
    gate = asyncio.Semaphore(concurrency)
    latencies: list[float] = []

    async def one(instance_id: uuid.UUID) -> None:
        async with gate:
            started = time.perf_counter()
            await provisioner.provision(instance_id)
            latencies.append(time.perf_counter() - started)
            if raw_clone is not None:
                await raw_clone.measure()

    stop = asyncio.Event()
    background = asyncio.create_task(traffic.run(stop)) if traffic else None
    started = time.perf_counter()
    await asyncio.gather(*(one(instance_id) for instance_id in ids))
    wall = time.perf_counter() - started
    stop.set()
    if background:
        await background
    return latencies, wall


class RawClone:
    """Times a bare ``CREATE DATABASE ... TEMPLATE`` of the tenant template (and drops it)."""

    def __init__(self, conn: asyncpg.Connection, template: str) -> None:
        self.conn, self.template, self.times = conn, template, list[float]()

    async def measure(self) -> None:
        name = f"bench_clone_{uuid.uuid4().hex[:8]}"
        started = time.perf_counter()
        await pg_admin.create_database(self.conn, name, template=self.template)
        self.times.append(time.perf_counter() - started)
        await pg_admin.drop_database(self.conn, name)


async def engine_memory(
    sessions: async_sessionmaker[AsyncSession], vault: Vault, subdomains: list[str]
) -> tuple[float, float]:
    """Bytes per cached engine (each with one open connection): Python heap growth (tracemalloc,
    immune to the allocator reusing freed memory) and resident-set growth."""
    router = TenantRouter(
        platform_sessions=sessions, vault=vault, base_domain="bench.localhost", max_engines=len(subdomains), pool_size=1
    )
    process = psutil.Process()

    async def touch(subdomain: str) -> None:
        tenant = await router.resolve(f"{subdomain}.bench.localhost", None, "GET")
        async with router.session(tenant) as session:
            await tenant_health(session)

    try:
        for subdomain in subdomains[:5]:  # warm-up: imports, compiled statements, first-use caches
            await touch(subdomain)
        gc.collect()
        tracemalloc.start()
        heap_before, rss_before = tracemalloc.get_traced_memory()[0], process.memory_info().rss
        for subdomain in subdomains[5:]:
            await touch(subdomain)
        gc.collect()
        heap_after, rss_after = tracemalloc.get_traced_memory()[0], process.memory_info().rss
        tracemalloc.stop()
        assert router.engines.stats().engines_cached == len(subdomains)
        engines = max(1, len(subdomains) - 5)
        return (heap_after - heap_before) / engines, (rss_after - rss_before) / engines
    finally:
        await router.close()


async def main(count: int, concurrency: int) -> None:
    async with bench_platform() as platform:
        sessions, vault, server = platform.sessions, platform.vault, platform.server

        admin = await asyncpg.connect(dsn=libpq_dsn(admin_url(server, vault)))
        raw_clone = RawClone(admin, await ensure_template(admin, server, vault))
        router = TenantRouter(
            platform_sessions=sessions, vault=vault, base_domain="bench.localhost", max_engines=20, pool_size=1
        )
        print(f"{'path':<11}{'mode':<15}{'tenants':>8}{'tenants/s':>11}{'p50 ms':>9}{'p95 ms':>9}{'p50/raw':>9}")
        provisioned: list[str] = []
        results: dict[tuple[str, int], tuple[float, float]] = {}
        served = 0
        for path, use_template in (("template", True), ("migrations", False)):
            provisioner = Provisioner(sessions, vault, use_template=use_template)
            for mode, workers in (("one at a time", 1), (f"{concurrency} at once", concurrency)):
                ids = await new_instances(sessions, count)
                sampling = raw_clone if (use_template and workers == 1) else None
                traffic = TenantTraffic(router, provisioned[:20]) if workers > 1 else None
                latencies, wall = await provision_all(provisioner, ids, workers, sampling, traffic)
                served += traffic.served if traffic else 0
                if workers == 1:
                    wall = sum(latencies)  # without the raw clones timed in between
                p50 = statistics.median(latencies)
                ratio = p50 / statistics.median(raw_clone.times) if raw_clone.times else 0.0
                results[(path, workers)] = (count / wall, ratio)
                print(
                    f"{path:<11}{mode:<15}{count:>8}{count / wall:>11.1f}{p50 * 1000:>9.1f}"
                    f"{percentile(latencies, 0.95) * 1000:>9.1f}{ratio:>9.2f}"
                )
                async with sessions() as session:
                    for instance_id in ids[:20]:
                        row = await session.get(Instance, instance_id)
                        assert row is not None
                        provisioned.append(row.subdomain)
        await router.close()
        raw = raw_clone.times
        print(
            f"raw CREATE DATABASE ... TEMPLATE, timed after each tenant of the first row: "
            f"median {statistics.median(raw) * 1000:.1f} ms, p95 {percentile(raw, 0.95) * 1000:.1f} ms ({len(raw)})"
        )
        print(f"tenant requests served while provisioning concurrently: {served}")
        await admin.close()
        heap, rss = await engine_memory(sessions, vault, provisioned[:60])
        print(
            f"memory per cached tenant engine with one open connection: {heap / 1024:.0f} KiB of Python heap, "
            f"{rss / 1024:.0f} KiB resident"
        )
        print()
        verdicts = [
            ("p50 time-to-READY <= 2.5 x raw clone (template path)", results[("template", 1)][1] <= 2.5),
            (f">= 10 tenants/s, {concurrency} at once with tenant traffic (template path)",
             results[("template", concurrency)][0] >= 10),
            ("<= 1 MiB per cached tenant engine", heap <= 1024 * 1024),
        ]  # fmt: skip
        for target, met in verdicts:
            print(f"{'PASS' if met else 'MISS'}  {target}")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("-n", "--tenants", type=int, default=100)
    parser.add_argument("--concurrency", type=int, default=8)
    args = parser.parse_args()
    asyncio.run(main(args.tenants, args.concurrency))
