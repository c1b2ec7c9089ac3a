"""How long a fresh, migrated platform database takes: clone from a template vs. run migrations.

The test harness clones a migrated template per test; this prints what that buys.
Usage: uv run python bench/platform_db_clone.py [--rounds N]
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import tempfile
import time
import uuid
from pathlib import Path

import asyncpg
from sqlalchemy.engine import URL
from sqlalchemy.ext.asyncio import create_async_engine

from kitehub.db import libpq_dsn
from kitehub.embedded_pg import start_embedded_server
from kitehub.migrate import migrate_to


async def _admin_execute(server: URL, sql: str) -> None:
    conn = await asyncpg.connect(dsn=libpq_dsn(server.set(database="postgres")))
    try:
        await conn.execute(sql)
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
    await _admin_execute(server, f'CREATE DATABASE "{template}"')
    await _migrate(server.set(database=template))
    timings: dict[str, list[float]] = {"clone from template": [], "create + migrate": []}
    try:
        for _ in range(rounds):
            name = f"bench_{uuid.uuid4().hex[:8]}"
            started = time.perf_counter()
            await _admin_execute(server, f'CREATE DATABASE "{name}" TEMPLATE "{template}"')
            timings["clone from template"].append(time.perf_counter() - started)
            await _admin_execute(server, f'DROP DATABASE "{name}" WITH (FORCE)')

            started = time.perf_counter()
            await _admin_execute(server, f'CREATE DATABASE "{name}"')
            await _migrate(server.set(database=name))
            timings["create + migrate"].append(time.perf_counter() - started)
            await _admin_execute(server, f'DROP DATABASE "{name}" WITH (FORCE)')
    finally:
        await _admin_execute(server, f'DROP DATABASE IF EXISTS "{template}" WITH (FORCE)')
    return timings


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rounds", type=int, default=20)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="kitehub-bench-") as data_dir:
        server = start_embedded_server(Path(data_dir), stop_with_process=True)
        timings = asyncio.run(measure(server.url("postgres"), args.rounds))
    print(f"{'method':<22}{'median ms':>10}{'p90 ms':>10}  ({args.rounds} rounds)")
    for method, values in timings.items():
        ordered = sorted(values)
        p90 = ordered[max(0, int(len(ordered) * 0.9) - 1)]
        print(f"{method:<22}{statistics.median(values) * 1000:>10.1f}{p90 * 1000:>10.1f}")


if __name__ == "__main__":
    main()
