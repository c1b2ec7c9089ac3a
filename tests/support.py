"""Database helpers for tests: whole databases are cheap on PostgreSQL, so each test gets one."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import asyncpg
from sqlalchemy.engine import URL

from kitehub import pg_admin
from kitehub.db import libpq_dsn


@asynccontextmanager
async def connect(url: URL) -> AsyncIterator[asyncpg.Connection]:
    conn = await asyncpg.connect(dsn=libpq_dsn(url))
    try:
        yield conn
    finally:
        await conn.close()


async def create_database(server_url: URL, name: str, *, template: str | None = None) -> URL:
    async with connect(server_url.set(database="postgres")) as conn:
        await pg_admin.create_database(conn, name, template=template)
    return server_url.set(database=name)


async def drop_database(server_url: URL, name: str) -> None:
    async with connect(server_url.set(database="postgres")) as conn:
        await pg_admin.drop_database(conn, name)


async def table_names(url: URL) -> set[str]:
    async with connect(url) as conn:
        rows = await conn.fetch("SELECT tablename FROM pg_tables WHERE schemaname = 'public'")
    return {row["tablename"] for row in rows}
