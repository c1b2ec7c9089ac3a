"""The platform database: its metadata, its address, its engine and per-request sessions.

Tenant databases are not reached from here: their engines belong to the connection router in
``kitehub.provisioning``.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from typing import TYPE_CHECKING

import asyncpg
from sqlalchemy.engine import URL, make_url
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)
from sqlalchemy.orm import DeclarativeBase

from kitehub.embedded_pg import start_embedded_server
from kitehub.orm import new_metadata

if TYPE_CHECKING:
    from litestar.datastructures import State

    from kitehub.settings import Settings

PLATFORM_DATABASE = "kitehub"


class PlatformBase(DeclarativeBase):
    """Base of every model stored in the platform database."""

    metadata = new_metadata()


def normalise_url(raw: str | URL) -> URL:
    """Accept ``postgres://``, ``postgresql://`` or ``postgresql+asyncpg://``; use asyncpg."""
    url = make_url(raw) if isinstance(raw, str) else raw
    if url.get_backend_name() not in {"postgres", "postgresql"}:
        raise ValueError(f"KiteHub needs PostgreSQL, got a {url.get_backend_name()!r} URL")
    return url.set(drivername="postgresql+asyncpg")


def libpq_dsn(url: URL) -> str:
    """The URL in the form psql and libpq accept (no SQLAlchemy driver suffix)."""
    return url.set(drivername="postgresql").render_as_string(hide_password=False)


async def ensure_database(url: URL) -> None:
    """Create ``url``'s database when it does not exist yet (embedded server only).

    CREATE DATABASE cannot run in a transaction and takes no parameters, hence a plain asyncpg
    connection and a quoted identifier.
    """
    maintenance = url.set(database="postgres")
    conn = await asyncpg.connect(dsn=libpq_dsn(maintenance))
    try:
        exists = await conn.fetchval("SELECT 1 FROM pg_database WHERE datname = $1", url.database)
        if not exists:
            quoted = await conn.fetchval("SELECT quote_ident($1)", url.database)
            # Another process may win the race; the database is then there, which is all we need.
            with contextlib.suppress(asyncpg.DuplicateDatabaseError):
                await conn.execute(f"CREATE DATABASE {quoted}")
    finally:
        await conn.close()


async def resolve_platform_url(settings: Settings, *, stop_embedded_with_process: bool = False) -> URL:
    """The platform database URL: the configured one, or the embedded server's (started if needed)."""
    if settings.database_url is not None:
        return normalise_url(settings.database_url.get_secret_value())
    import anyio.to_thread

    server = await anyio.to_thread.run_sync(
        lambda: start_embedded_server(settings.data_dir, stop_with_process=stop_embedded_with_process)
    )
    url = server.url(PLATFORM_DATABASE)
    await ensure_database(url)
    return url


def create_platform_engine(url: URL, *, pool_size: int = 10) -> AsyncEngine:
    return create_async_engine(url, pool_size=pool_size, max_overflow=pool_size, pool_pre_ping=True)


def session_factory(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    return async_sessionmaker(engine, expire_on_commit=False)


async def provide_platform_session(state: State) -> AsyncIterator[AsyncSession]:
    """Litestar dependency: one session per request, committed when the handler succeeds.

    Any exception rolls the whole request back, so a failed call never leaves half its writes.
    """
    factory: async_sessionmaker[AsyncSession] = state.platform_sessions
    async with factory() as session:
        try:
            yield session
        except BaseException:
            await session.rollback()
            raise
        else:
            await session.commit()
