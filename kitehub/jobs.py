"""Background jobs: a procrastinate queue in the platform database.

Jobs are enqueued *inside the caller's transaction* (procrastinate's own defer function, called
through the SQLAlchemy session), so an instance and the job that provisions it are committed
together or not at all, and the worker is woken by the queue's NOTIFY at commit. Workers run in
``kitehub serve`` (unless ``--no-worker``) and in ``kitehub worker``, on as many machines as wanted,
supervised by ``kitehub.job_worker``.
"""

from __future__ import annotations

import importlib
import json
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import procrastinate
from psycopg.conninfo import make_conninfo
from psycopg_pool import AsyncConnectionPool
from sqlalchemy import text
from sqlalchemy.engine import URL
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from kitehub.db import libpq_dsn
from kitehub.errors import ConflictError

if TYPE_CHECKING:
    from kitehub.provisioning.vault import Vault
    from kitehub.settings import Settings

PROCRASTINATE_SCHEMA = "procrastinate"
RUNTIME_KEY = "kitehub"
POOL_TIMEOUT_SECONDS = 5.0
# Modules with a ``register_tasks(app)`` function (imported by path: shared infrastructure
# does not import the areas).
TASK_MODULES = (
    "kitehub.provisioning.jobs",
    "kitehub.platform.subscriptions.jobs",
    "kitehub.platform.retention",
    "kitehub.tenant.guests.jobs",
)


@dataclass(frozen=True, slots=True)
class JobRuntime:
    """What tasks need, handed to them by the worker (``context.additional_context``)."""

    settings: Settings
    sessions: async_sessionmaker[AsyncSession]
    vault: Vault


def runtime_of(context: procrastinate.JobContext) -> JobRuntime:
    runtime: JobRuntime = context.additional_context[RUNTIME_KEY]
    return runtime


def job_conninfo(url: URL) -> str:
    """libpq conninfo for procrastinate's own connections, with its schema on the search_path."""
    return make_conninfo(libpq_dsn(url), options=f"-c search_path={PROCRASTINATE_SCHEMA}")


class _JobPool(AsyncConnectionPool[Any]):
    """Opening waits ``POOL_TIMEOUT_SECONDS`` for a first connection, not psycopg_pool's 30 s: a
    worker started while the database is away fails soon and is tried again (``job_worker``)."""

    async def open(self, wait: bool = False, timeout: float = POOL_TIMEOUT_SECONDS) -> None:  # noqa: ASYNC109 - the signature of the method it overrides
        await super().open(wait=wait, timeout=timeout)


def create_job_app(url: URL) -> procrastinate.App:
    connector = procrastinate.PsycopgConnector(
        conninfo=job_conninfo(url), min_size=1, max_size=4, timeout=POOL_TIMEOUT_SECONDS, pool_factory=_JobPool
    )
    app = procrastinate.App(connector=connector)
    for path in TASK_MODULES:
        register: Callable[[procrastinate.App], None] = importlib.import_module(path).register_tasks
        register(app)
    return app


async def enqueue(
    session: AsyncSession,
    task_name: str,
    *,
    queue: str,
    args: dict[str, Any],
    queueing_lock: str | None = None,
) -> int:
    """Add a job in ``session``'s transaction; it exists (and wakes a worker) once that commits.

    ``queueing_lock``: at most one waiting job per lock value (a second enqueue fails).
    """
    await session.execute(text(f"SET LOCAL search_path TO public, {PROCRASTINATE_SCHEMA}"))
    try:
        job_id = await _defer(session, task_name, queue, args, queueing_lock)
    except IntegrityError as exc:  # procrastinate's queueing lock: such a job is waiting already
        raise ConflictError("that work is already queued") from exc
    await session.execute(text("SET LOCAL search_path TO public"))
    return job_id


async def _defer(
    session: AsyncSession, task_name: str, queue: str, args: dict[str, Any], queueing_lock: str | None
) -> int:
    job_id = await session.scalar(
        text(
            "SELECT unnest(procrastinate_defer_jobs_v1(ARRAY[ROW(:queue, :task, 0, NULL, :queueing_lock,"
            " CAST(:args AS jsonb), NULL)::procrastinate_job_to_defer_v1]))"
        ),
        {"queue": queue, "task": task_name, "queueing_lock": queueing_lock, "args": json.dumps(args)},
    )
    assert job_id is not None
    return int(job_id)


async def enqueue_many(
    session: AsyncSession, task_name: str, *, queue: str, jobs: Sequence[tuple[Mapping[str, Any], str | None]]
) -> int:
    """Add one job per ``(args, lock)`` in ``session``'s transaction, in a single statement.

    ``lock``: jobs sharing it run one after another, never at once (procrastinate's lock).
    """
    if not jobs:
        return 0
    await session.execute(text(f"SET LOCAL search_path TO public, {PROCRASTINATE_SCHEMA}"))
    count = await session.scalar(
        text(
            "SELECT cardinality(procrastinate_defer_jobs_v1(ARRAY("
            " SELECT ROW(:queue, :task, 0, job.lock, NULL, job.args::jsonb, NULL)::procrastinate_job_to_defer_v1"
            " FROM unnest(CAST(:args AS text[]), CAST(:locks AS text[])) AS job(args, lock))))"
        ),
        {
            "queue": queue,
            "task": task_name,
            "args": [json.dumps(args) for args, _ in jobs],
            "locks": [lock for _, lock in jobs],
        },
    )
    await session.execute(text("SET LOCAL search_path TO public"))
    return int(count or 0)
