from __future__ import annotations

import socket
import time
from pathlib import Path

from sqlalchemy.engine import URL

from kitehub import __version__
from kitehub.db import libpq_dsn
from kitehub.migrate import head_revision
from tests.cli_support import clean_env, run_kitehub
from tests.support import connect, table_names


def test_version() -> None:
    result = run_kitehub("--version", env=clean_env())
    assert result.returncode == 0
    assert __version__ in result.stdout


def test_serve_refuses_production_without_secrets(tmp_path: Path) -> None:
    result = run_kitehub("serve", env=clean_env(KITEHUB_ENV="production", KITEHUB_DATA_DIR=str(tmp_path)))
    assert result.returncode != 0
    assert "KITEHUB_ENCRYPTION_KEYS" in result.stderr
    assert "Traceback" not in result.stderr
    assert not (tmp_path / "pgdata").exists()  # refused before touching anything


def test_migrate_platform_up_down_and_up(tmp_path: Path, fresh_database_url: URL) -> None:
    env = clean_env(KITEHUB_DATABASE_URL=libpq_dsn(fresh_database_url), KITEHUB_DATA_DIR=str(tmp_path))
    up = run_kitehub("migrate", "platform", env=env)
    assert up.returncode == 0, up.stderr
    assert up.stdout.strip() == f"platform database: empty -> {head_revision('platform')}"

    down = run_kitehub("migrate", "platform", "--to", "base", env=env)
    assert down.returncode == 0, down.stderr
    assert down.stdout.strip().endswith("-> empty")


async def test_migrate_to_an_unknown_revision_fails_cleanly(tmp_path: Path, fresh_database_url: URL) -> None:
    env = clean_env(KITEHUB_DATABASE_URL=libpq_dsn(fresh_database_url), KITEHUB_DATA_DIR=str(tmp_path))
    result = run_kitehub("migrate", "platform", "--to", "nonexistent", env=env)
    assert result.returncode == 1
    assert "migration failed" in result.stderr
    assert "Traceback" not in result.stderr
    assert await table_names(fresh_database_url) <= {"alembic_version"}


def test_db_url_prints_the_configured_server_for_psql(tmp_path: Path) -> None:
    env = clean_env(
        KITEHUB_DATABASE_URL="postgresql+asyncpg://kh@db.internal:6543/kitehub", KITEHUB_DATA_DIR=str(tmp_path)
    )
    result = run_kitehub("db", "url", env=env)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "postgresql://kh@db.internal:6543/kitehub"


def test_an_unreachable_database_is_a_clear_error_without_the_password(tmp_path: Path) -> None:
    env = clean_env(
        KITEHUB_DATABASE_URL="postgresql://kh:hunter2hunter2@127.0.0.1:1/kitehub", KITEHUB_DATA_DIR=str(tmp_path)
    )
    result = run_kitehub("migrate", "platform", env=env)
    assert result.returncode == 1
    assert "cannot reach the platform database" in result.stderr
    assert "hunter2hunter2" not in result.stderr
    assert "Traceback" not in result.stderr


def test_a_bad_database_url_is_a_configuration_error(tmp_path: Path) -> None:
    env = clean_env(KITEHUB_DATABASE_URL="mysql://root:hunter2hunter2@db/kitehub", KITEHUB_DATA_DIR=str(tmp_path))
    result = run_kitehub("db", "url", env=env)
    assert result.returncode == 1
    assert "configuration error" in result.stderr
    assert "hunter2hunter2" not in result.stderr


async def test_a_database_from_a_newer_release_is_a_clear_error(tmp_path: Path, fresh_database_url: URL) -> None:
    env = clean_env(KITEHUB_DATABASE_URL=libpq_dsn(fresh_database_url), KITEHUB_DATA_DIR=str(tmp_path))
    assert run_kitehub("migrate", "platform", env=env).returncode == 0
    async with connect(fresh_database_url) as conn:
        await conn.execute("UPDATE alembic_version SET version_num = 'f00dfeed'")
    result = run_kitehub("migrate", "platform", env=env)
    assert result.returncode == 1
    assert "migration failed" in result.stderr
    assert "f00dfeed" in result.stderr
    assert "Traceback" not in result.stderr


async def test_serve_on_a_port_in_use_exits_at_once_with_a_clear_error(tmp_path: Path, fresh_database_url: URL) -> None:
    """Refused before the database is touched (no migration, no job worker taking jobs)."""
    with socket.create_server(("127.0.0.1", 0)) as taken:
        port = taken.getsockname()[1]
        env = clean_env(KITEHUB_DATABASE_URL=libpq_dsn(fresh_database_url), KITEHUB_DATA_DIR=str(tmp_path))
        started = time.monotonic()
        result = run_kitehub("serve", "--port", str(port), env=env, timeout=60)
    assert result.returncode == 1
    assert time.monotonic() - started < 30
    assert f"cannot listen on 127.0.0.1:{port}" in result.stderr
    assert "another kitehub serve" in result.stderr
    assert "Traceback" not in result.stderr
    assert await table_names(fresh_database_url) == set()  # nothing migrated
