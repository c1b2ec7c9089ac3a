"""``kill -9`` of a ``kitehub serve`` in the middle of provisioning: the next start finishes every
instance by itself (stalled-job detection), with no database or role left behind."""

from __future__ import annotations

import signal
import subprocess
import time
from collections.abc import Callable
from pathlib import Path

import httpx
import psutil

from tests.cli_support import clean_env, embedded_psql, private_data_dir, run_kitehub
from tests.e2e.conftest import (
    request_instance,
    signed_up_owner,
    start_serve,
    stop_serve,
    wait_until_instances_ready,
)

STALLED_SECONDS = "4"  # a killed worker's jobs are handed back this long after its last heartbeat
PAUSED_SECONDS = 300


def test_instances_provisioning_when_serve_is_killed_become_ready_after_a_restart() -> None:
    with private_data_dir() as directory:
        data_dir = directory / "data"
        try:
            _crash_and_recover(directory, data_dir)
        finally:
            _stop_embedded_server(data_dir)


def _crash_and_recover(directory: Path, data_dir: Path) -> None:
    first = start_serve(
        directory,
        data_dir,
        log_name="first.log",
        KITEHUB_ENV="test",
        KITEHUB_TEST_PROVISIONING_PAUSE=f"database:{PAUSED_SECONDS}",  # role created, database not yet
        KITEHUB_WORKER_STALLED_SECONDS=STALLED_SECONDS,
    )
    try:
        with httpx.Client(base_url=first.base_url, timeout=30) as client:
            owner = signed_up_owner(client, "co.mai@truong.vn")
            locations = [request_instance(client, owner, f"truong-{n}") for n in range(3)]
        dsn = _dsn(data_dir)
        _wait_for(lambda: _count(dsn, "roles") == 2, "two provisionings paused mid-way")
        first.process.send_signal(signal.SIGKILL)  # `serve` works 2 jobs at once: the third waits
        first.process.wait(timeout=30)
    finally:
        stop_serve(first)

    second = start_serve(
        directory, data_dir, log_name="second.log", KITEHUB_ENV="test", KITEHUB_WORKER_STALLED_SECONDS=STALLED_SECONDS
    )
    try:
        with httpx.Client(base_url=second.base_url, timeout=30) as client:
            wait_until_instances_ready(client, owner, locations, seconds=120)  # the token is still valid
    finally:
        stop_serve(second)
    reconcile = run_kitehub("tenants", "reconcile", env=clean_env(KITEHUB_DATA_DIR=str(data_dir)))
    assert reconcile.returncode == 0, reconcile.stderr
    assert reconcile.stdout.strip() == "no orphans", reconcile.stdout
    assert _count(dsn, "roles") == 3
    assert _count(dsn, "databases") == 3


def _dsn(data_dir: Path) -> str:
    url = run_kitehub("db", "url", env=clean_env(KITEHUB_DATA_DIR=str(data_dir)))
    assert url.returncode == 0, url.stderr
    return url.stdout.strip()


COUNTS = {
    "roles": "SELECT count(*) FROM pg_roles WHERE rolname LIKE 'kh\\_tenant\\_%'",
    "databases": "SELECT count(*) FROM pg_database WHERE datname LIKE 'kh\\_tenant\\_%'",
}


def _count(dsn: str, what: str) -> int:
    """Tenant roles or databases on the server."""
    query = COUNTS[what]
    found = subprocess.run([str(embedded_psql()), dsn, "-At", "-c", query], capture_output=True, text=True, check=True)
    return int(found.stdout)


def _wait_for(condition: Callable[[], bool], what: str, seconds: float = 60) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, f"not within {seconds} s: {what}"
        time.sleep(0.2)


def _stop_embedded_server(data_dir: Path) -> None:
    """``serve`` stops the embedded server it started, but not after a SIGKILL and a restart."""
    pid_file = data_dir / "pgdata" / "postmaster.pid"
    if pid_file.exists():
        postmaster = psutil.Process(int(pid_file.read_text().split()[0]))
        postmaster.send_signal(signal.SIGINT)
        postmaster.wait(timeout=30)
