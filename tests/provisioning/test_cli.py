"""The fleet commands as an operator runs them."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy.engine import URL

from kitehub.db import libpq_dsn
from kitehub.migrate import head_revision
from tests.cli_support import clean_env, run_kitehub
from tests.support import connect


def test_provision_list_reconcile_deprovision(tmp_path: Path, platform_url: URL, server_url: URL) -> None:
    env = clean_env(KITEHUB_DATABASE_URL=libpq_dsn(platform_url), KITEHUB_DATA_DIR=str(tmp_path))
    provisioned = run_kitehub("tenants", "provision", "cli-school", "--owner", "head@cli.example", env=env)
    try:
        assert provisioned.returncode == 0, provisioned.stderr
        assert "cli-school is READY" in provisioned.stdout

        listed = run_kitehub("tenants", "list", env=env)
        assert "cli-school" in listed.stdout
        assert "READY" in listed.stdout

        servers = run_kitehub("servers", "list", env=env)
        assert "default" in servers.stdout
        assert "1/500" in servers.stdout

        usage = run_kitehub("keys", "usage", env=env)
        assert "instances.database_password_encrypted: dev1: 1" in usage.stdout

        reserved = run_kitehub("tenants", "provision", "admin", "--owner", "head@cli.example", env=env)
        assert reserved.returncode == 1
        assert "reserved" in reserved.stderr
        assert "Traceback" not in reserved.stderr
    finally:
        dropped = run_kitehub("tenants", "deprovision", "cli-school", "--yes", env=env)
    assert dropped.returncode == 0, dropped.stderr
    assert "PURGED" in run_kitehub("tenants", "list", "--all", env=env).stdout
    assert "no orphans" in run_kitehub("tenants", "reconcile", env=env).stdout


async def test_drain_stops_placement(tmp_path: Path, platform_url: URL) -> None:
    env = clean_env(KITEHUB_DATABASE_URL=libpq_dsn(platform_url), KITEHUB_DATA_DIR=str(tmp_path))
    assert run_kitehub("servers", "drain", "default", env=env).returncode == 0
    refused = run_kitehub("tenants", "provision", "no-room", "--owner", "o@cli.example", env=env)
    assert refused.returncode == 1
    assert "full or draining" in refused.stderr
    assert "kitehub tenants retry" in refused.stderr
    async with connect(platform_url) as conn:
        assert await conn.fetchval("SELECT status FROM instances WHERE subdomain = 'no-room'") == "FAILED"


def test_migrate_tenants_and_status(tmp_path: Path, platform_url: URL, server_url: URL) -> None:
    env = clean_env(KITEHUB_DATABASE_URL=libpq_dsn(platform_url), KITEHUB_DATA_DIR=str(tmp_path))
    assert run_kitehub("tenants", "provision", "fleet-cli", "--owner", "o@cli.example", env=env).returncode == 0
    try:
        dry = run_kitehub("migrate", "tenants", "--dry-run", env=env)
        assert dry.returncode == 0, dry.stderr
        assert "0 tenants would move" in dry.stdout
        ran = run_kitehub("migrate", "tenants", "--concurrency", "2", env=env)
        assert ran.returncode == 0, ran.stderr
        assert "skipped" in ran.stdout
        status = run_kitehub("migrate", "status", env=env)
        assert status.returncode == 0, status.stderr
        assert str(head_revision("tenant")) in status.stdout
        assert "0 failed" in status.stdout
        bad = run_kitehub("migrate", "tenants", "--instances", "not-a-uuid", env=env)
        assert bad.returncode == 2
        for args, message in (
            (("--to", "nope"), "no tenant revision"),
            (("--server", "nowhere"), "no database server"),
            (("--instances", "00000000-0000-0000-0000-000000000001"), "not migratable"),
            (("--to", "base"), "older than the oldest revision"),
        ):
            refused = run_kitehub("migrate", "tenants", *args, env=env)
            assert refused.returncode == 1, args
            assert message in refused.stderr, (args, refused.stderr)
            assert "Traceback" not in refused.stderr
    finally:
        run_kitehub("tenants", "deprovision", "fleet-cli", "--yes", env=env)
