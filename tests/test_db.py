from __future__ import annotations

import asyncio
import uuid

import pytest
from sqlalchemy import text
from sqlalchemy.engine import URL, make_url

from kitehub.bootstrap import ensure_database
from kitehub.db import create_platform_engine, libpq_dsn, normalise_url, safe_url
from tests.support import connect, drop_database, table_names


def test_libpq_sslmode_becomes_asyncpg_ssl_and_back() -> None:
    url = normalise_url("postgresql://kh:pw@db.example:5432/kitehub?sslmode=require")
    assert url.drivername == "postgresql+asyncpg"
    assert url.query == {"ssl": "require"}
    assert make_url(libpq_dsn(url)).query == {"sslmode": "require"}


def test_safe_url_hides_passwords_wherever_they_are() -> None:
    url = normalise_url("postgresql://kh:secret1@db/kitehub?password=secret2&application_name=x")
    shown = safe_url(url)
    assert "secret1" not in shown
    assert "secret2" not in shown
    assert "db" in shown


@pytest.mark.parametrize("raw", ["mysql://x@db/kitehub", "sqlite:///kitehub.db"])
def test_only_postgresql_is_accepted(raw: str) -> None:
    with pytest.raises(ValueError, match="PostgreSQL"):
        normalise_url(raw)


async def test_processes_starting_together_create_the_platform_database_once(server_url: URL) -> None:
    name = f"kitehub_race_{uuid.uuid4().hex[:8]}"
    target = server_url.set(database=name)
    try:
        await asyncio.gather(*(ensure_database(target) for _ in range(6)))
        assert await table_names(target) == set()  # it exists and is reachable
    finally:
        await drop_database(server_url, name)


async def test_a_pooled_connection_the_server_closed_is_replaced_not_lent(platform_url: URL) -> None:
    engine = create_platform_engine(platform_url, pool_size=1)
    try:
        async with engine.connect() as conn:
            first = await conn.scalar(text("SELECT pg_backend_pid()"))
        async with connect(platform_url) as admin:  # as a restart or an idle timeout would
            assert await admin.fetchval("SELECT pg_terminate_backend($1, 5000)", first)
        await asyncio.sleep(0.1)  # the closed socket is noticed by the event loop
        async with engine.connect() as conn:
            assert await conn.scalar(text("SELECT pg_backend_pid()")) != first
    finally:
        await engine.dispose()
