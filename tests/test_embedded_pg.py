from __future__ import annotations

import asyncpg
import pytest
from sqlalchemy.engine import make_url

from kitehub.db import normalise_url
from kitehub.embedded_pg import EmbeddedServer, shared_buffers_mb
from tests.cli_support import clean_env, run_kitehub


async def test_a_second_process_reuses_the_running_server(embedded_server: EmbeddedServer | None) -> None:
    if embedded_server is None:
        pytest.skip("tests run against an external PostgreSQL server")
    postmaster_before = (embedded_server.pgdata / "postmaster.pid").read_text()

    result = run_kitehub("db", "url", env=clean_env(KITEHUB_DATA_DIR=str(embedded_server.pgdata.parent)))

    assert result.returncode == 0, result.stderr
    printed = make_url(result.stdout.strip())
    assert printed.query["host"] == str(embedded_server.socket_dir)
    assert printed.database == "kitehub"
    assert (embedded_server.pgdata / "postmaster.pid").read_text() == postmaster_before  # same server, not restarted
    conn = await asyncpg.connect(dsn=str(printed))
    try:
        assert await conn.fetchval("SELECT current_database()") == "kitehub"
    finally:
        await conn.close()


def test_urls_name_the_socket_and_use_asyncpg(embedded_server: EmbeddedServer | None) -> None:
    if embedded_server is None:
        pytest.skip("tests run against an external PostgreSQL server")
    url = embedded_server.url("kitehub")
    assert url.drivername == "postgresql+asyncpg"
    assert normalise_url(url.set(drivername="postgresql")) == url
    assert url.query["host"] == str(embedded_server.socket_dir)


async def test_the_server_runs_with_kitehubs_settings(embedded_server: EmbeddedServer | None) -> None:
    if embedded_server is None:
        pytest.skip("tests run against an external PostgreSQL server")
    conn = await asyncpg.connect(dsn=str(embedded_server.url("postgres").set(drivername="postgresql")))
    try:
        pages = await conn.fetchval("SELECT setting::int FROM pg_settings WHERE name = 'shared_buffers'")
    finally:
        await conn.close()
    assert pages * 8 // 1024 == shared_buffers_mb()  # in 8 kB pages; set at the first start


def test_the_test_server_lives_outside_pytests_rotating_directories(
    embedded_server: EmbeddedServer | None, tmp_path_factory: pytest.TempPathFactory
) -> None:
    """pytest deletes all but its newest three ``pytest-N`` directories when a run starts: a
    second run started meanwhile must not be able to delete this run's PostgreSQL data."""
    if embedded_server is None:
        pytest.skip("tests run against an external PostgreSQL server")
    rotating_root = tmp_path_factory.getbasetemp().parent
    assert not embedded_server.pgdata.resolve().is_relative_to(rotating_root.resolve())
