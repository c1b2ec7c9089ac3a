from __future__ import annotations

import os
import signal
import socket
import subprocess
import time
import urllib.request
from pathlib import Path

import asyncpg
import pytest
from sqlalchemy.engine import make_url

from kitehub.db import normalise_url
from kitehub.embedded_pg import EmbeddedServer, shared_buffers_mb
from tests.cli_support import KITEHUB, clean_env, private_data_dir, run_kitehub


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


def _serve(data_dir: Path, port: int) -> subprocess.Popen[bytes]:
    env = clean_env(KITEHUB_DATA_DIR=str(data_dir))
    return subprocess.Popen(
        [str(KITEHUB), "serve", "--port", str(port), "--no-worker"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=(data_dir / f"serve-{time.monotonic_ns()}.log").open("wb"),
    )


def _logs(data_dir: Path) -> str:
    return "\n".join(path.read_text()[-2000:] for path in sorted(data_dir.glob("serve-*.log")))


def _wait_until_serving(process: subprocess.Popen[bytes], port: int, data_dir: Path) -> None:
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        assert process.poll() is None, f"kitehub serve exited: {_logs(data_dir)}"
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/health/live", timeout=2) as answer:
                if answer.status == 200:
                    return
        except OSError:
            time.sleep(0.3)
    raise AssertionError("kitehub serve did not come up")


def _postmaster_pid(pgdata: Path) -> int | None:
    try:
        return int((pgdata / "postmaster.pid").read_text().split("\n", 1)[0])
    except (OSError, ValueError):
        return None


def _running(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


def test_a_holder_killed_by_sigkill_does_not_keep_the_server_from_stopping() -> None:
    """``kill -9`` a ``kitehub serve``; the next one, stopped normally, still stops the server."""
    with private_data_dir() as data_dir:
        _crash_then_stop_normally(data_dir)


def _crash_then_stop_normally(tmp_path: Path) -> None:
    with socket.create_server(("127.0.0.1", 0)) as probe:
        port = probe.getsockname()[1]
    pgdata = tmp_path / "pgdata"
    crashed = _serve(tmp_path, port)
    postmaster: int | None = None
    try:
        _wait_until_serving(crashed, port, tmp_path)
        crashed.kill()  # SIGKILL: no exit handler runs, its pid stays in the holder count
        crashed.wait(timeout=10)
        postmaster = _postmaster_pid(pgdata)
        assert postmaster is not None
        assert _running(postmaster)  # orphaned, as after a crash

        again = _serve(tmp_path, port)
        _wait_until_serving(again, port, tmp_path)
        assert _postmaster_pid(pgdata) == postmaster  # the running server was reused
        again.send_signal(signal.SIGTERM)
        assert again.wait(timeout=60) == 0

        deadline = time.monotonic() + 30
        while _running(postmaster) and time.monotonic() < deadline:
            time.sleep(0.2)
        assert not _running(postmaster), "the last holder left the embedded server running"
    finally:
        for process in (crashed, locals().get("again")):
            if isinstance(process, subprocess.Popen) and process.poll() is None:
                process.kill()
                process.wait(timeout=10)
        if postmaster is not None and _running(postmaster):
            os.kill(postmaster, signal.SIGINT)
            stop_by = time.monotonic() + 30
            while _running(postmaster) and time.monotonic() < stop_by:
                time.sleep(0.1)
