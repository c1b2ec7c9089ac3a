"""The platform PostgreSQL restarts under a running ``kitehub serve``: clients get 503s with
``Retry-After`` meanwhile, never a 500, and the job worker comes back by itself."""

from __future__ import annotations

import threading
import time
from collections import Counter
from pathlib import Path

import httpx

from tests.e2e.conftest import (
    OwnPostgres,
    request_instance,
    signed_up_owner,
    start_serve,
    stop_serve,
    wait_until_instances_ready,
)

OUTAGE_SECONDS = 3
RECOVERY_SECONDS = 60


class Traffic:
    """Clients asking in a loop, on threads, until stopped; every answer is kept."""

    def __init__(self, base_url: str, requests: list[tuple[str, str, dict[str, str]]]) -> None:
        self.answers: Counter[tuple[str, int]] = Counter()
        self.without_retry_after: list[str] = []
        self._stop = threading.Event()
        self._threads = [
            threading.Thread(target=self._loop, args=(base_url, method, path, headers), daemon=True)
            for method, path, headers in requests
        ]

    def __enter__(self) -> Traffic:
        for thread in self._threads:
            thread.start()
        return self

    def __exit__(self, *_exc: object) -> None:
        self._stop.set()
        for thread in self._threads:
            thread.join(timeout=30)

    def _loop(self, base_url: str, method: str, path: str, headers: dict[str, str]) -> None:
        with httpx.Client(base_url=base_url, timeout=30) as client:
            while not self._stop.is_set():
                response = client.request(method, path, headers=headers)
                self.answers[(path, response.status_code)] += 1
                if response.status_code == 503 and "retry-after" not in response.headers:
                    self.without_retry_after.append(f"{path}: {response.text}")
                time.sleep(0.05)

    def statuses(self) -> set[int]:
        return {status for _, status in self.answers}


def test_a_platform_database_restart_answers_503_and_kitehub_recovers(
    tmp_path: Path, own_postgres: OwnPostgres
) -> None:
    server = start_serve(
        tmp_path,
        tmp_path / "data",
        KITEHUB_DATABASE_URL=own_postgres.dsn,
        KITEHUB_WORKER_STALLED_SECONDS="6",  # a heartbeat every 2 s: the worker sees the outage soon
    )
    try:
        with httpx.Client(base_url=server.base_url, timeout=30) as client:
            owner = signed_up_owner(client, "co.hoa@truong.vn")
            before = request_instance(client, owner, "truoc-su-co")
            wait_until_instances_ready(client, owner, [before], seconds=RECOVERY_SECONDS)
            tenant = {"Host": "truoc-su-co.kitehub.localhost", **owner}

            with Traffic(
                server.base_url,
                [
                    ("GET", "/health/ready", {}),
                    ("GET", "/api/v1/instances", owner),
                    ("GET", "/api/v1/me", owner),
                    ("GET", "/tenant/v1/health", tenant),
                ],
            ) as traffic:
                time.sleep(0.5)
                own_postgres.stop()
                time.sleep(OUTAGE_SECONDS)
                own_postgres.start()
                _wait_until_ready_with_a_worker(client)
                time.sleep(0.5)

            assert 503 in traffic.statuses(), traffic.answers  # the outage was seen
            assert traffic.statuses() <= {200, 503}, traffic.answers
            assert not traffic.without_retry_after

            after = request_instance(client, owner, "sau-su-co")
            wait_until_instances_ready(client, owner, [after], seconds=RECOVERY_SECONDS)
            assert client.get("/tenant/v1/health", headers=tenant).status_code == 200
    finally:
        stop_serve(server)
    assert "unhandled error" not in server.log(), server.log()


def _wait_until_ready_with_a_worker(client: httpx.Client) -> None:
    deadline = time.monotonic() + RECOVERY_SECONDS
    while True:
        ready = client.get("/health/ready")
        if ready.status_code == 200:
            assert ready.json()["checks"]["job_worker"]["running"] is True
            return
        assert time.monotonic() < deadline, f"not ready again within {RECOVERY_SECONDS} s: {ready.text}"
        time.sleep(0.2)
