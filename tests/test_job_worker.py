"""The supervised job worker hands back the jobs of a worker that died (stalled-job detection)."""

from __future__ import annotations

import asyncio
import contextlib
import time

from sqlalchemy.engine import URL
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from kitehub.job_worker import supervised_worker
from kitehub.jobs import create_job_app, enqueue
from kitehub.pg_admin import drop_database
from kitehub.platform.audit.services import SYSTEM
from kitehub.platform.instances.admin_services import delete
from kitehub.platform.instances.models import Instance
from kitehub.provisioning import jobs as provisioning_jobs
from kitehub.provisioning.vault import Vault
from kitehub.settings import Settings
from tests.conftest import TenantFactory
from tests.support import connect


async def test_a_purge_interrupted_by_a_killed_worker_is_finished_by_the_next_one(
    make_tenant: TenantFactory,
    platform_sessions: async_sessionmaker[AsyncSession],
    platform_url: URL,
    server_url: URL,
    settings: Settings,
    vault: Vault,
) -> None:
    instance = await make_tenant()
    assert instance.database_name
    assert instance.database_role
    async with platform_sessions() as session, session.begin():
        locked = await session.get(Instance, instance.id, with_for_update=True)
        assert locked is not None
        await delete(session, SYSTEM, locked, purge=True)
    # A worker took the purge, dropped the database and was killed (kill -9) before the role.
    job_app = create_job_app(platform_url)
    async with job_app.open_async():
        dead_worker = await job_app.job_manager.register_worker()
        job = await job_app.job_manager.fetch_job(queues=[provisioning_jobs.QUEUE], worker_id=dead_worker)
    assert job is not None
    assert job.task_name == provisioning_jobs.PURGE
    async with connect(server_url.set(database="postgres")) as admin:
        await drop_database(admin, instance.database_name)
    async with connect(platform_url) as platform:
        await platform.execute(
            "UPDATE procrastinate.procrastinate_workers SET last_heartbeat = now() - interval '1 minute' WHERE id = $1",
            dead_worker,
        )

    quick = settings.model_copy(update={"worker_stalled_seconds": 3.0})
    worker = asyncio.create_task(supervised_worker(quick, platform_url, platform_sessions, vault, concurrency=1).run())
    try:
        status = await _wait_for_purge(platform_url, instance)
    finally:
        worker.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await worker
    assert status == "PURGED"
    async with connect(server_url.set(database="postgres")) as admin:
        assert await admin.fetchval("SELECT 1 FROM pg_roles WHERE rolname = $1", instance.database_role) is None


async def _wait_for_purge(platform_url: URL, instance: Instance) -> str | None:
    deadline = time.monotonic() + 30
    status = None
    while status != "PURGED" and time.monotonic() < deadline:
        async with connect(platform_url) as platform:
            status = await platform.fetchval("SELECT status FROM instances WHERE id = $1", instance.id)
        await asyncio.sleep(0.2)
    return status


async def test_a_job_still_running_through_a_shutdown_is_not_taken_for_stalled(
    make_tenant: TenantFactory,
    platform_sessions: async_sessionmaker[AsyncSession],
    platform_url: URL,
    settings: Settings,
    vault: Vault,
) -> None:
    """procrastinate stops its own heartbeat when a shutdown begins and then waits for running
    jobs without limit: another worker would run a long job a second time meanwhile."""
    instance = await make_tenant(provision=False)
    async with platform_sessions() as session, session.begin():
        await enqueue(session, provisioning_jobs.PROVISION, queue=provisioning_jobs.QUEUE,
                      args={"instance_id": str(instance.id)})  # fmt: skip
    slow = settings.model_copy(update={"worker_stalled_seconds": 1.5, "test_provisioning_pause": "database:6"})
    worker = asyncio.create_task(supervised_worker(slow, platform_url, platform_sessions, vault, concurrency=1).run())
    job_app = create_job_app(platform_url)
    async with job_app.open_async():
        try:
            await _wait_for_status(platform_url, "procrastinate.procrastinate_jobs", "doing")
        finally:
            worker.cancel()  # a graceful stop (once: a second cancel aborts the job in hand)
        seen = await _statuses_of(platform_url, provisioning_jobs.PROVISION, seconds=3.5)  # > twice the stalled time
        stalled = await job_app.job_manager.get_stalled_jobs(seconds_since_heartbeat=1.5)
        with contextlib.suppress(asyncio.CancelledError):
            await worker  # the shutdown finishes the job first
    assert seen == {"doing"}  # never handed back to the queue while it ran
    assert stalled == []
    async with platform_sessions() as session:
        finished = await session.get(Instance, instance.id)
    assert finished is not None
    assert finished.status.value == "READY"  # the shutdown waited for it


async def _wait_for_status(platform_url: URL, table: str, status: str) -> None:
    deadline = time.monotonic() + 30
    async with connect(platform_url) as platform:
        while not await platform.fetchval(f"SELECT 1 FROM {table} WHERE status = $1", status):  # noqa: S608
            assert time.monotonic() < deadline, f"no {status} row in {table}"
            await asyncio.sleep(0.05)


async def _statuses_of(platform_url: URL, task_name: str, *, seconds: float) -> set[str]:
    """Every status the task's jobs had, sampled for ``seconds``."""
    seen: set[str] = set()
    deadline = time.monotonic() + seconds
    async with connect(platform_url) as platform:
        while time.monotonic() < deadline:
            rows = await platform.fetch(
                "SELECT status FROM procrastinate.procrastinate_jobs WHERE task_name = $1", task_name
            )
            seen |= {str(row["status"]) for row in rows}
            await asyncio.sleep(0.05)
    return seen
