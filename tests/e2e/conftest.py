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
import pytest

from tests.cli_support import KITEHUB, clean_env, private_data_dir

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


@contextmanager
def serve(tmp_path: Path, **env: str) -> Iterator[RunningServer]:
    """``kitehub serve`` on a fresh data dir of its own (outside pytest's directories, see
    ``private_data_dir``), its log under ``tmp_path``, with ``env`` added (KITEHUB_*), ready when
    entered and stopped (SIGTERM, then SIGKILL) when left."""
    with private_data_dir() as data_dir:
        yield from _serve(tmp_path, data_dir, env)


def _serve(tmp_path: Path, data_dir: Path, env: dict[str, str]) -> Iterator[RunningServer]:
    port = _free_port()
    log_path = tmp_path / "serve.log"
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            [str(KITEHUB), "serve", "--port", str(port)],
            env=clean_env(KITEHUB_DATA_DIR=str(data_dir), **env),
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    server = RunningServer(f"http://127.0.0.1:{port}", data_dir, process, log_path)
    try:
        _wait_until_ready(server)
        yield server
    finally:
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


@pytest.fixture
def running_server(tmp_path: Path) -> Iterator[RunningServer]:
    """``kitehub serve`` on a fresh data dir; its first start creates the configured admin."""
    with serve(
        tmp_path,
        KITEHUB_BOOTSTRAP_ADMIN_EMAIL=BOOTSTRAP_ADMIN[0],
        KITEHUB_BOOTSTRAP_ADMIN_PASSWORD=BOOTSTRAP_ADMIN[1],
    ) as server:
        yield server


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
