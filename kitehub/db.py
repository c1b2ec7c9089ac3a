"""The platform database: its metadata, its address, its engine and per-request sessions.

Tenant databases are not reached from here: their engines belong to the connection router in
``kitehub.provisioning``.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import TYPE_CHECKING

from sqlalchemy.engine import URL, make_url
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)
from sqlalchemy.orm import DeclarativeBase

from kitehub.instance_changes import forget_committed
from kitehub.orm import new_metadata
from kitehub.pool_health import check_pooled_connections

if TYPE_CHECKING:
    from litestar.datastructures import State


class PlatformBase(DeclarativeBase):
    """Base of every model stored in the platform database."""

    metadata = new_metadata()


def normalise_url(raw: str | URL) -> URL:
    """Accept ``postgres://``, ``postgresql://`` or ``postgresql+asyncpg://``; use asyncpg.

    libpq's ``sslmode`` becomes asyncpg's ``ssl`` (asyncpg takes no ``sslmode`` argument).
    """
    url = make_url(raw) if isinstance(raw, str) else raw
    if url.get_backend_name() not in {"postgres", "postgresql"}:
        raise ValueError(f"KiteHub needs PostgreSQL, got a {url.get_backend_name()!r} URL")
    url = url.set(drivername="postgresql+asyncpg")
    if "sslmode" in url.query:
        url = url.difference_update_query(["sslmode"]).update_query_dict({"ssl": url.query["sslmode"]})
    return url


def libpq_dsn(url: URL) -> str:
    """The URL in the form psql and libpq accept (no driver suffix, ``sslmode`` not ``ssl``)."""
    url = url.set(drivername="postgresql")
    if "ssl" in url.query:
        url = url.difference_update_query(["ssl"]).update_query_dict({"sslmode": url.query["ssl"]})
    return url.render_as_string(hide_password=False)


def safe_url(url: URL) -> str:
    """The URL for messages and logs: no password, wherever it was written."""
    return url.difference_update_query(["password"]).render_as_string(hide_password=True)


def create_platform_engine(url: URL, *, pool_size: int = 10) -> AsyncEngine:
    # hide_parameters: bound values (hashes, ciphertexts, payloads) never reach error text or logs.
    engine = create_async_engine(url, pool_size=pool_size, max_overflow=pool_size, hide_parameters=True)
    return check_pooled_connections(engine)


def session_factory(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    return async_sessionmaker(engine, expire_on_commit=False)


@asynccontextmanager
async def committing(session: AsyncSession) -> AsyncIterator[AsyncSession]:
    """Commit when the block succeeds; roll back on any exception, so a failed request never
    leaves half its writes (platform or tenant database alike)."""
    try:
        yield session
    except BaseException:
        await session.rollback()
        raise
    else:
        await session.commit()
        forget_committed(session)


async def provide_platform_session(state: State) -> AsyncIterator[AsyncSession]:
    """Litestar dependency: one session per request, committed when the handler succeeds."""
    factory: async_sessionmaker[AsyncSession] = state.platform_sessions
    async with factory() as session, committing(session):
        yield session
