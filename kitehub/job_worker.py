"""The job worker, supervised: procrastinate's worker restarted whenever it stops unasked.

procrastinate's worker ends for good when its database goes away (a failed heartbeat stops it, a
failed fetch raises out of it) and nothing brings it back: provisioning, billing sweeps and purges
would stop while the API looked healthy. ``SupervisedWorker`` runs it in a loop instead: a run that
ends unasked is logged and the next one starts, on a fresh connection pool, after a pause that
doubles from 1 s to 30 s. With ``give_up_seconds`` (``kitehub worker``) it raises
``WorkerGaveUpError`` once no worker has been running for that long, so the process exits non-zero
and its process manager sees it; ``kitehub serve`` never gives up (``/health/ready`` answers 503
meanwhile).

Beside each run a sweeper hands back the jobs of workers that went silent (a process killed with
SIGKILL, a machine lost): procrastinate leaves them ``doing`` for ever otherwise. A worker is
silent once its heartbeat (every third of ``stalled_seconds``) is ``stalled_seconds`` old. Every
task must therefore be safe to run again, even while a silent-but-alive worker still runs it:
provisioning resumes from its recorded steps under a per-instance advisory lock, a purge drops
with ``IF EXISTS`` under the same lock.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

import procrastinate
from procrastinate import exceptions
from procrastinate.worker import Worker

from kitehub.jobs import RUNTIME_KEY, JobRuntime, create_job_app
from kitehub.logs import get_logger

if TYPE_CHECKING:
    from sqlalchemy.engine import URL
    from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

    from kitehub.provisioning.vault import Vault
    from kitehub.settings import Settings

BACKOFF_FIRST_SECONDS = 1.0
BACKOFF_MAX_SECONDS = 30.0
logger = get_logger(__name__)


class WorkerGaveUpError(RuntimeError):
    """No worker could run for ``give_up_seconds``: the process should exit and be restarted."""


@dataclass(frozen=True, slots=True)
class WorkerStatus:
    """What readiness reports about this process's worker."""

    running: bool
    restarts: int
    down_since: datetime | None
    last_error: str | None  # the exception's type only: its text may name hosts or users

    def as_dict(self) -> dict[str, Any]:
        return {
            "running": self.running,
            "restarts": self.restarts,
            "down_since": self.down_since.isoformat() if self.down_since else None,
            "last_error": self.last_error,
        }


class SupervisedWorker:
    def __init__(
        self,
        make_app: Callable[[], procrastinate.App],
        runtime: JobRuntime,
        *,
        concurrency: int,
        stalled_seconds: float,
        give_up_seconds: float | None = None,
    ) -> None:
        self._make_app = make_app
        self._runtime = runtime
        self._concurrency = concurrency
        self._stalled_seconds = stalled_seconds
        self._give_up_seconds = give_up_seconds
        self._worker: Worker | None = None
        self._restarts = 0
        self._down_since: datetime | None = datetime.now(UTC)
        self._last_error: str | None = None

    def status(self) -> WorkerStatus:
        running = self._worker is not None and self._worker.worker_id is not None
        return WorkerStatus(running, self._restarts, None if running else self._down_since, self._last_error)

    async def run(self) -> None:
        """Work the queue until cancelled; raises ``WorkerGaveUpError`` when giving up."""
        delay = BACKOFF_FIRST_SECONDS
        failing_since = time.monotonic()
        while True:
            started = time.monotonic()
            error, was_up = await self._run_once()
            ended = time.monotonic()
            if was_up:
                failing_since = ended
                self._down_since = datetime.now(UTC)
                if ended - started >= BACKOFF_MAX_SECONDS:
                    delay = BACKOFF_FIRST_SECONDS
            self._last_error = type(error).__name__ if error is not None else "stopped unasked"
            if self._give_up_seconds is not None and ended - failing_since >= self._give_up_seconds:
                raise WorkerGaveUpError(
                    f"the job worker could not run for {self._give_up_seconds:g} s (last error: {self._last_error})"
                ) from error
            logger.error("the job worker stopped; restarting it", error=self._last_error, retry_in_seconds=delay)
            await asyncio.sleep(delay)
            delay = min(delay * 2, BACKOFF_MAX_SECONDS)
            self._restarts += 1

    async def _run_once(self) -> tuple[BaseException | None, bool]:
        """One run of procrastinate's worker on its own pool: what ended it (None: it returned
        unasked) and whether it got as far as registering (it was up)."""
        app = self._make_app()
        worker = Worker(
            app,
            concurrency=self._concurrency,
            install_signal_handlers=False,
            additional_context={RUNTIME_KEY: self._runtime},
            delete_jobs="successful",
            update_heartbeat_interval=self._stalled_seconds / 3,
            stalled_worker_timeout=self._stalled_seconds,
        )
        self._worker = worker
        up = asyncio.Event()
        try:
            async with app.open_async():
                watcher = asyncio.create_task(self._watch(app, worker, up))
                try:
                    await worker.run()  # type: ignore[no-untyped-call]
                finally:
                    watcher.cancel()
                    with contextlib.suppress(asyncio.CancelledError):
                        await watcher
        except Exception as exc:
            return exc, up.is_set()
        finally:
            self._worker = None
        return None, up.is_set()

    async def _watch(self, app: procrastinate.App, worker: Worker, up: asyncio.Event) -> None:
        """Note when the worker has registered (it is up), then, every third of ``stalled_seconds``
        until ``worker.run()`` returns, beat its heart and retry other workers' stalled jobs.

        The heartbeat here is a second one on purpose: procrastinate stops its own as soon as a
        shutdown begins, then waits for the running jobs without limit; a job still running half
        a minute into a shutdown would look stalled and be run a second time by another worker.
        """
        while worker.worker_id is None:  # noqa: ASYNC110 - procrastinate has no "registered" event
            await asyncio.sleep(0.05)
        up.set()
        self._down_since = None
        while True:
            await self._beat(app, worker)
            await self._retry_stalled_jobs(app)
            await asyncio.sleep(self._stalled_seconds / 3)

    async def _beat(self, app: procrastinate.App, worker: Worker) -> None:
        worker_id = worker.worker_id
        if worker_id is None:  # unregistered: its jobs are done
            return
        try:
            await app.job_manager.update_heartbeat(worker_id)
        except Exception as exc:  # a lost database: the worker itself notices and stops
            logger.warning("could not send the worker's heartbeat", error=type(exc).__name__)

    async def _retry_stalled_jobs(self, app: procrastinate.App) -> None:
        manager = app.job_manager
        try:
            for job in await manager.get_stalled_jobs(seconds_since_heartbeat=self._stalled_seconds):
                try:
                    await manager.retry_job(job)
                except exceptions.ConnectorException:
                    continue  # another worker's sweeper was first (the job is no longer doing)
                logger.warning("retrying a job whose worker went silent", job_id=job.id, task=job.task_name)
        except Exception as exc:  # a lost database: the worker itself notices and stops
            logger.warning("could not look for stalled jobs", error=type(exc).__name__)


def supervised_worker(
    settings: Settings,
    url: URL,
    sessions: async_sessionmaker[AsyncSession],
    vault: Vault,
    *,
    concurrency: int,
    give_up_seconds: float | None = None,
) -> SupervisedWorker:
    return SupervisedWorker(
        lambda: create_job_app(url),
        JobRuntime(settings=settings, sessions=sessions, vault=vault),
        concurrency=concurrency,
        stalled_seconds=settings.worker_stalled_seconds,
        give_up_seconds=give_up_seconds,
    )
