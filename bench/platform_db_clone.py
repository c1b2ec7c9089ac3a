"""How long a fresh, migrated platform database takes: clone from a template vs. run migrations.

The test harness clones a migrated template per test; this prints what that buys.
Usage: uv run python -m bench.platform_db_clone [--rounds N]
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import tempfile
import time
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import asyncpg
from sqlalchemy.engine import URL
from sqlalchemy.ext.asyncio import create_async_engine

from kitehub import pg_admin
from kitehub.db import libpq_dsn
from kitehub.embedded_pg import start_embedded_server
from kitehub.migrate import migrate_to


@asynccontextmanager
async def _admin(server: URL) -> AsyncIterator[asyncpg.Connection]:
    conn = await asyncpg.connect(dsn=libpq_dsn(server.set(database="postgres")))
    try:
        yield conn
    finally:
        await conn.close()


async def _migrate(url: URL) -> None:
    engine = create_async_engine(url)
    try:
        await migrate_to(engine, "platform", "head")
    finally:
        await engine.dispose()


async def measure(server: URL, rounds: int) -> dict[str, list[float]]:
    template = f"bench_template_{uuid.uuid4().hex[:8]}"
    timings: dict[str, list[float]] = {"clone from template": [], "create + migrate": []}
    async with _admin(server) as admin:
        await pg_admin.create_database(admin, template)
        await _migrate(server.set(database=template))
        try:
            for _ in range(rounds):
                name = f"bench_{uuid.uuid4().hex[:8]}"
                started = time.perf_counter()
                await pg_admin.create_database(admin, name, template=template)
                timings["clone from template"].append(time.perf_counter() - started)
                await pg_admin.drop_database(admin, name)

                started = time.perf_counter()
                await pg_admin.create_database(admin, name)
                await _migrate(server.set(database=name))
                timings["create + migrate"].append(time.perf_counter() - started)
                await pg_admin.drop_database(admin, name)
        finally:
            await pg_admin.drop_database(admin, template)
    return timings


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rounds", type=int, default=20)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="kitehub-bench-") as data_dir:
        server = start_embedded_server(Path(data_dir))
        try:
            timings = asyncio.run(measure(server.url("postgres"), args.rounds))
        finally:
            server.stop()  # before its directory goes
    print(f"{'method':<22}{'median ms':>10}{'p90 ms':>10}  ({args.rounds} rounds)")
    for method, values in timings.items():
        ordered = sorted(values)
        p90 = ordered[max(0, int(len(ordered) * 0.9) - 1)]
        print(f"{method:<22}{statistics.median(values) * 1000:>10.1f}{p90 * 1000:>10.1f}")


if __name__ == "__main__":
    main()
