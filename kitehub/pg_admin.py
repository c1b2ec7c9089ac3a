"""Administrative SQL that takes no bind parameters (CREATE/DROP DATABASE, roles), written once.

DDL cannot use placeholders, so identifiers are validated and quoted here; CREATE and DROP
DATABASE cannot run in a transaction, so these take a plain asyncpg connection.
"""

from __future__ import annotations

import contextlib

import asyncpg

MAX_IDENTIFIER_BYTES = 63


def quote_ident(name: str) -> str:
    """Quote an identifier; refuse what PostgreSQL would silently truncate or cannot store."""
    if not name or "\x00" in name or len(name.encode()) > MAX_IDENTIFIER_BYTES:
        raise ValueError(f"invalid identifier ({len(name.encode())} bytes)")
    return '"' + name.replace('"', '""') + '"'


def quote_literal(value: str) -> str:
    if "\x00" in value:
        raise ValueError("invalid literal")
    return "'" + value.replace("'", "''") + "'"


async def database_exists(conn: asyncpg.Connection, name: str) -> bool:
    return bool(await conn.fetchval("SELECT 1 FROM pg_database WHERE datname = $1", name))


async def create_database(
    conn: asyncpg.Connection,
    name: str,
    *,
    owner: str | None = None,
    template: str | None = None,
    allow_connections: bool = True,
) -> None:
    sql = f"CREATE DATABASE {quote_ident(name)}"
    if owner:
        sql += f" OWNER {quote_ident(owner)}"
    if template:
        sql += f" TEMPLATE {quote_ident(template)}"
    if not allow_connections:
        sql += " ALLOW_CONNECTIONS false"
    await conn.execute(sql)


async def create_database_if_missing(conn: asyncpg.Connection, name: str) -> None:
    """Safe when several processes start at once: losing the race is success too."""
    if await database_exists(conn, name):
        return
    # Concurrent creators fail with DuplicateDatabase, or with a unique violation in pg_database.
    with contextlib.suppress(asyncpg.DuplicateDatabaseError, asyncpg.UniqueViolationError):
        await create_database(conn, name)


async def drop_database(conn: asyncpg.Connection, name: str) -> None:
    """Drop ``name`` if it exists, ending its sessions first (PostgreSQL 13+)."""
    await conn.execute(f"DROP DATABASE IF EXISTS {quote_ident(name)} WITH (FORCE)")
