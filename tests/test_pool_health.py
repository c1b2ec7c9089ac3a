"""Pooled connections: a dead one is replaced before it is lent, a live one is kept."""

from __future__ import annotations

import asyncio

from sqlalchemy import text
from sqlalchemy.engine import URL
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

from kitehub.db import create_platform_engine
from kitehub.pool_health import check_pooled_connections
from tests.support import connect


async def _backend_pid(engine: AsyncEngine) -> int:
    async with engine.connect() as conn:
        pid: int = await conn.scalar(text("SELECT pg_backend_pid()"))
    return pid


async def test_a_pooled_connection_the_server_closed_is_replaced_not_lent(platform_url: URL) -> None:
    engine = create_platform_engine(platform_url, pool_size=1)
    try:
        first = await _backend_pid(engine)
        async with connect(platform_url) as admin:  # as a restart or an idle timeout would
            assert await admin.fetchval("SELECT pg_terminate_backend($1, 5000)", first)
        await asyncio.sleep(0.1)  # the closed socket is noticed by the event loop
        assert await _backend_pid(engine) != first
    finally:
        await engine.dispose()


async def test_a_pooled_connection_that_sat_idle_is_asked_and_kept_when_it_answers(platform_url: URL) -> None:
    engine = check_pooled_connections(create_async_engine(platform_url, pool_size=1), idle_ping_seconds=0)
    try:
        first = await _backend_pid(engine)
        await asyncio.sleep(0.01)
        assert await _backend_pid(engine) == first
    finally:
        await engine.dispose()
