"""Database helpers for tests: whole databases are cheap on PostgreSQL, so each test gets one."""

from __future__ import annotations

import asyncpg
from sqlalchemy.engine import URL

from kitehub.db import libpq_dsn


async def _admin(server_url: URL) -> asyncpg.Connection:
    return await asyncpg.connect(dsn=libpq_dsn(server_url.set(database="postgres")))


async def create_database(server_url: URL, name: str, *, template: str | None = None) -> URL:
    conn = await _admin(server_url)
    try:
        clause = f' TEMPLATE "{template}"' if template else ""
        await conn.execute(f'CREATE DATABASE "{name}"{clause}')
    finally:
        await conn.close()
    return server_url.set(database=name)


async def drop_database(server_url: URL, name: str) -> None:
    conn = await _admin(server_url)
    try:
        await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        await conn.close()


async def table_names(url: URL) -> set[str]:
    conn = await asyncpg.connect(dsn=libpq_dsn(url))
    try:
        rows = await conn.fetch("SELECT tablename FROM pg_tables WHERE schemaname = 'public'")
    finally:
        await conn.close()
    return {row["tablename"] for row in rows}
