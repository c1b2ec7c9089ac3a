from __future__ import annotations

import asyncio
import uuid

import pytest
from sqlalchemy.engine import URL, make_url

from kitehub.bootstrap import ensure_database
from kitehub.db import libpq_dsn, normalise_url, safe_url
from tests.support import drop_database, table_names


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
