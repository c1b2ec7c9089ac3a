"""A throw-away platform for benchmarks: its own embedded PostgreSQL, migrated, with a vault."""

from __future__ import annotations

import os
import tempfile
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy.engine import URL
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

import kitehub.platform.registry  # noqa: F401 - every table known to the mappers
from kitehub.bootstrap import ensure_database
from kitehub.db import create_platform_engine, session_factory
from kitehub.embedded_pg import start_embedded_server
from kitehub.migrate import migrate_to
from kitehub.provisioning.models import DatabaseServer
from kitehub.provisioning.servers import register_default_server
from kitehub.provisioning.vault import Vault
from kitehub.setting_values import generate_encryption_key, parse_encryption_keys


@dataclass(frozen=True, slots=True)
class BenchPlatform:
    url: URL
    sessions: async_sessionmaker[AsyncSession]
    vault: Vault
    server: DatabaseServer
    encryption_keys: str  # the vault's keyring as KITEHUB_ENCRYPTION_KEYS, for an app on this platform
    server_pid: int  # the postmaster, to read the CPU its processes used (``postgres_cpu_seconds``)


def postgres_cpu_seconds(postmaster_pid: int) -> float:
    """CPU seconds the server has used so far: its live processes plus the ended ones (backends of
    closed connections), which the postmaster has reaped. Linux only (``/proc``)."""
    ticks = os.sysconf("SC_CLK_TCK")
    total = 0
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rpartition(")")[2].split()
        except OSError:
            continue  # ended while we looked
        pid, parent = int(stat.parent.name), int(fields[1])
        if pid == postmaster_pid:
            total += sum(int(value) for value in fields[11:15])  # utime, stime, cutime, cstime
        elif parent == postmaster_pid:
            total += int(fields[11]) + int(fields[12])
    return total / ticks


@asynccontextmanager
async def bench_platform() -> AsyncIterator[BenchPlatform]:
    with tempfile.TemporaryDirectory(prefix="kitehub-bench-") as data_dir:
        embedded = start_embedded_server(Path(data_dir))
        url = embedded.url("kitehub")
        engine = create_platform_engine(url)
        try:
            await ensure_database(url)
            await migrate_to(engine, "platform", "head")
            sessions = session_factory(engine)
            keys = generate_encryption_key("bench")
            vault = Vault(parse_encryption_keys(keys))
            async with sessions() as session, session.begin():
                server = await register_default_server(session, vault, url)
            yield BenchPlatform(url, sessions, vault, server, keys, embedded.pid)
        finally:
            await engine.dispose()
            embedded.stop()  # before its directory goes
