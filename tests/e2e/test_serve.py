"""The newcomer's path: ``kitehub serve`` on a fresh data dir, then look around."""

from __future__ import annotations

import signal
import subprocess

import httpx
import psutil
from openapi_spec_validator import validate

from tests.cli_support import clean_env, embedded_psql, run_kitehub
from tests.e2e.conftest import RunningServer

PLATFORM_TABLES = {
    "accounts", "instances", "instance_events", "database_servers", "tiers", "subscriptions",
    "subscription_history", "payment_orders", "payment_order_events", "bank_transactions",
    "storage_usage", "storage_events", "branding_jobs", "tenant_migrations", "audit_log", "settings",
}  # fmt: skip


def test_serve_is_ready_and_publishes_valid_openapi(running_server: RunningServer) -> None:
    ready = httpx.get(f"{running_server.base_url}/health/ready")
    assert ready.status_code == 200
    assert ready.headers["x-request-id"]
    document = httpx.get(f"{running_server.base_url}/schema/openapi.json").json()
    validate(document)  # raises when the document is not valid OpenAPI 3
    missing = httpx.get(f"{running_server.base_url}/nope")
    assert missing.status_code == 404
    assert missing.headers["content-type"].startswith("application/problem+json")


def test_psql_on_db_url_lists_the_platform_tables(running_server: RunningServer) -> None:
    url = run_kitehub("db", "url", env=clean_env(KITEHUB_DATA_DIR=str(running_server.data_dir)))
    assert url.returncode == 0, url.stderr
    dsn = url.stdout.strip()

    tables = subprocess.run(
        [str(embedded_psql()), dsn, "-At", "-c", r"\dt"], capture_output=True, text=True, check=True
    )
    listed = {line.split("|")[1] for line in tables.stdout.splitlines()}
    assert listed >= PLATFORM_TABLES

    tiers = subprocess.run(
        [str(embedded_psql()), dsn, "-At", "-c", "SELECT code FROM tiers ORDER BY monthly_price"],
        capture_output=True, text=True, check=True,
    )  # fmt: skip
    assert tiers.stdout.split() == ["BASIC", "STANDARD", "PREMIUM"]


def test_stopping_serve_stops_the_embedded_server_it_started(running_server: RunningServer) -> None:
    postmaster = int((running_server.data_dir / "pgdata" / "postmaster.pid").read_text().split()[0])
    assert psutil.pid_exists(postmaster)

    running_server.process.send_signal(signal.SIGTERM)
    assert running_server.process.wait(timeout=30) == 0
    psutil.wait_procs([psutil.Process(postmaster)], timeout=15) if psutil.pid_exists(postmaster) else None
    assert not psutil.pid_exists(postmaster), running_server.log()
