"""``kitehub worker`` when its database goes away: back at work after a restart, and a non-zero
exit (for the process manager to see) when the database stays away."""

from __future__ import annotations

import subprocess
import time
from pathlib import Path

from tests.cli_support import KITEHUB, clean_env, embedded_psql, run_kitehub
from tests.e2e.conftest import OwnPostgres

GIVE_UP_SECONDS = 30  # far longer than a restart of the server takes on a busy machine (15 failed once in a full run)


def test_the_worker_survives_a_database_restart_and_exits_1_when_it_stays_away(
    tmp_path: Path, own_postgres: OwnPostgres
) -> None:
    env = clean_env(
        KITEHUB_DATABASE_URL=own_postgres.dsn,
        KITEHUB_DATA_DIR=str(tmp_path / "data"),
        KITEHUB_WORKER_STALLED_SECONDS="3",  # a heartbeat every second: the outage is seen at once
        KITEHUB_WORKER_GIVE_UP_SECONDS=str(GIVE_UP_SECONDS),
    )
    migrated = run_kitehub("migrate", "platform", env=env)
    assert migrated.returncode == 0, migrated.stderr
    with (tmp_path / "worker.log").open("w+") as log:
        worker = subprocess.Popen([str(KITEHUB), "worker"], env=env, stdout=log, stderr=subprocess.STDOUT, text=True)
        try:
            first = _wait_for_registration(own_postgres.dsn, after=0)

            own_postgres.stop()
            time.sleep(1)
            own_postgres.start()
            _wait_for_registration(own_postgres.dsn, after=first)  # a new run of the worker
            assert worker.poll() is None

            own_postgres.stop()
            returncode = worker.wait(timeout=GIVE_UP_SECONDS + 60)
        finally:
            if worker.poll() is None:
                worker.kill()
                worker.wait()
        log.seek(0)
        output = log.read()
    assert returncode == 1, output
    assert f"the job worker could not run for {GIVE_UP_SECONDS} s" in output


def _wait_for_registration(dsn: str, *, after: int, seconds: float = 60) -> int:
    """The id of a worker registered in the queue after worker ``after``."""
    deadline = time.monotonic() + seconds
    while True:
        found = subprocess.run(
            [
                str(embedded_psql()),
                dsn,
                "-At",
                "-c",
                "SELECT coalesce(max(id), 0) FROM procrastinate.procrastinate_workers",
            ],
            capture_output=True,
            text=True,
            check=False,
        )
        if found.returncode == 0 and int(found.stdout) > after:
            return int(found.stdout)
        assert time.monotonic() < deadline, f"no worker registered within {seconds} s"
        time.sleep(0.2)
