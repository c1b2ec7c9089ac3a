"""A throw-away platform for benchmarks: its own embedded PostgreSQL, migrated, with a vault."""

from __future__ import annotations

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
from kitehub.settings import generate_encryption_key, parse_encryption_keys


@dataclass(frozen=True, slots=True)
class BenchPlatform:
    url: URL
    sessions: async_sessionmaker[AsyncSession]
    vault: Vault
    server: DatabaseServer
    encryption_keys: str  # the vault's keyring as KITEHUB_ENCRYPTION_KEYS, for an app on this platform


@asynccontextmanager
async def bench_platform() -> AsyncIterator[BenchPlatform]:
    with tempfile.TemporaryDirectory(prefix="kitehub-bench-") as data_dir:
        url = start_embedded_server(Path(data_dir), stop_with_process=True).url("kitehub")
        await ensure_database(url)
        engine = create_platform_engine(url)
        try:
            await migrate_to(engine, "platform", "head")
            sessions = session_factory(engine)
            keys = generate_encryption_key("bench")
            vault = Vault(parse_encryption_keys(keys))
            async with sessions() as session, session.begin():
                server = await register_default_server(session, vault, url)
            yield BenchPlatform(url, sessions, vault, server, keys)
        finally:
            await engine.dispose()
