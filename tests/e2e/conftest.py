"""Drive the real ``kitehub serve`` process over HTTP, on its own data dir and embedded server."""

from __future__ import annotations

import signal
import socket
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx
import psutil
import pytest

from tests.cli_support import KITEHUB, clean_env, private_data_dir, run_kitehub

STARTUP_DEADLINE_SECONDS = 60


@dataclass
class RunningServer:
    base_url: str
    data_dir: Path
    process: subprocess.Popen[bytes]
    log_path: Path

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


BOOTSTRAP_ADMIN = ("admin@kitehub.test", "bootstrap-admin-password")


@pytest.fixture
def running_server(tmp_path: Path) -> Iterator[RunningServer]:
    """``kitehub serve`` on a fresh data dir (its embedded server's, see ``private_data_dir``); its first
    start creates the configured admin."""
    with serve(tmp_path) as server:
        yield server


@contextmanager
def serve(tmp_path: Path, **env: str) -> Iterator[RunningServer]:
    """``kitehub serve`` on a fresh data dir of its own, its log under ``tmp_path``, with ``env``
    added (KITEHUB_*): ready when entered, stopped when left."""
    with private_data_dir() as directory:
        server = start_serve(tmp_path, directory / "data", **env)
        try:
            yield server
        finally:
            stop_serve(server)


def start_serve(directory: Path, data_dir: Path, *, log_name: str = "serve.log", **env: str) -> RunningServer:
    """Start ``kitehub serve`` (with the bootstrap admin and ``env``) and wait until it is ready."""
    port = _free_port()
    log_path = directory / log_name
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            [str(KITEHUB), "serve", "--port", str(port)],
            env=clean_env(
                KITEHUB_DATA_DIR=str(data_dir),
                KITEHUB_BOOTSTRAP_ADMIN_EMAIL=BOOTSTRAP_ADMIN[0],
                KITEHUB_BOOTSTRAP_ADMIN_PASSWORD=BOOTSTRAP_ADMIN[1],
                **env,
            ),
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    server = RunningServer(f"http://127.0.0.1:{port}", data_dir, process, log_path)
    try:
        _wait_until_ready(server)
    except BaseException:
        stop_serve(server)
        raise
    return server


def stop_serve(server: RunningServer) -> None:
    if server.process.poll() is None:
        server.process.send_signal(signal.SIGTERM)
        try:
            server.process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            server.process.kill()
            server.process.wait()


def _wait_until_ready(server: RunningServer) -> None:
    deadline = time.monotonic() + STARTUP_DEADLINE_SECONDS
    while time.monotonic() < deadline:
        if server.process.poll() is not None:
            pytest.fail(f"kitehub serve exited with {server.process.returncode}:\n{server.log()}")
        try:
            if httpx.get(f"{server.base_url}/health/ready", timeout=2).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.2)
    pytest.fail(f"kitehub serve was not ready within {STARTUP_DEADLINE_SECONDS} s:\n{server.log()}")


@dataclass
class OwnPostgres:
    """An embedded PostgreSQL of the test's own, started by ``kitehub db url`` (which leaves it
    running), so a test can stop and restart it under a running KiteHub."""

    data_dir: Path
    dsn: str = ""

    def start(self) -> None:
        started = run_kitehub("db", "url", env=clean_env(KITEHUB_DATA_DIR=str(self.data_dir)))
        assert started.returncode == 0, started.stderr
        dsn = started.stdout.strip()
        assert self.dsn in ("", dsn), "the restarted server must keep its address"
        self.dsn = dsn

    def stop(self) -> None:
        """Fast shutdown (sessions ended), waited for."""
        pid_file = self.data_dir / "pgdata" / "postmaster.pid"
        if not pid_file.exists():
            return
        postmaster = psutil.Process(int(pid_file.read_text().split()[0]))
        postmaster.send_signal(signal.SIGINT)
        postmaster.wait(timeout=30)


@pytest.fixture
def own_postgres() -> Iterator[OwnPostgres]:
    with private_data_dir() as directory:
        server = OwnPostgres(directory)
        server.start()
        try:
            yield server
        finally:
            server.stop()


UA = {"User-Agent": "e2e-browser/1.0"}


def token(client: httpx.Client, email: str, password: str) -> dict[str, str]:
    """Authorization headers for a log-in (with a browser's user agent, as audited)."""
    response = client.post("/api/v1/auth/login", json={"email": email, "password": password}, headers=UA)
    assert response.status_code == 200, response.text
    return {"Authorization": f"Bearer {response.json()['access_token']}", **UA}


def signed_up_owner(client: httpx.Client, email: str) -> dict[str, str]:
    password = "mat-khau-rat-dai"
    signup = client.post(
        "/api/v1/auth/signup", json={"email": email, "password": password, "full_name": "Owner"}, headers=UA
    )
    assert signup.status_code == 201, signup.text
    return token(client, email, password)


def request_instance(client: httpx.Client, owner: dict[str, str], subdomain: str) -> str:
    """Ask for an instance; its location (GET it to follow the provisioning)."""
    created = client.post(
        "/api/v1/instances", json={"subdomain": subdomain, "organization_name": subdomain}, headers=owner
    )
    assert created.status_code == 202, created.text
    location: str = created.headers["location"]
    return location


def wait_until_instances_ready(
    client: httpx.Client, owner: dict[str, str], locations: list[str], *, seconds: float
) -> None:
    deadline = time.monotonic() + seconds
    waiting = set(locations)
    while waiting:
        for location in list(waiting):
            status = client.get(location, headers=owner).json()["status"]
            assert status in ("PROVISIONING", "READY"), status
            if status == "READY":
                waiting.discard(location)
        assert time.monotonic() < deadline, f"not READY within {seconds} s: {waiting}"
        time.sleep(0.3)
