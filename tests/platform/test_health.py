from __future__ import annotations

import asyncio
import uuid
from pathlib import Path

from litestar.testing import AsyncTestClient
from sqlalchemy.engine import URL
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker, create_async_engine

from kitehub.app import create_app
from kitehub.jobs import enqueue
from kitehub.migrate import head_revision, migrate_to
from tests.client import ConcurrentTestClient
from tests.conftest import make_settings


async def test_live(client: AsyncTestClient) -> None:  # type: ignore[type-arg]
    response = await client.get("/health/live")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


async def test_ready_when_the_platform_database_is_at_head(client: AsyncTestClient) -> None:  # type: ignore[type-arg]
    response = await client.get("/health/ready")
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "ready"
    assert body["checks"]["platform_database"]["revision"] == head_revision("platform")
    assert set(body["tenant_router"]) >= {"engines_cached", "connections_checked_out", "hits", "misses", "evictions"}


async def test_not_ready_while_the_schema_is_behind(tmp_path: Path, fresh_database_url: URL) -> None:
    engine = create_async_engine(fresh_database_url)
    await migrate_to(engine, "platform", "0001")
    await engine.dispose()
    async with ConcurrentTestClient(create_app(make_settings(tmp_path, fresh_database_url))) as client:
        response = await client.get("/health/ready")
    assert response.status_code == 503
    assert response.headers["content-type"].startswith("application/problem+json")
    assert response.headers["retry-after"]
    body = response.json()
    assert "0001" in body["detail"]
    assert body["checks"]["platform_database"] == {"revision": "0001", "expected_revision": head_revision("platform")}


async def test_not_ready_when_the_database_is_unreachable(tmp_path: Path, server_url: URL) -> None:
    missing = server_url.set(database="kitehub_does_not_exist")
    async with ConcurrentTestClient(create_app(make_settings(tmp_path, missing))) as client:
        response = await client.get("/health/ready")
        live = await client.get("/health/live")
    assert response.status_code == 503
    assert "unreachable" in response.json()["detail"]
    assert live.status_code == 200  # liveness does not depend on the database


async def test_ready_reports_the_job_worker_of_a_process_that_runs_one(worker_client: AsyncTestClient) -> None:  # type: ignore[type-arg]
    for _ in range(100):  # the worker registers in the queue just after start-up
        response = await worker_client.get("/health/ready")
        if response.status_code == 200:
            break
        assert response.json()["detail"] == "the job worker of this process is not running"
        await asyncio.sleep(0.1)
    assert response.status_code == 200, response.text
    worker = response.json()["checks"]["job_worker"]
    assert worker["running"] is True
    assert worker["down_since"] is None


async def test_ready_reports_the_age_of_the_oldest_waiting_job(
    client: AsyncTestClient,  # type: ignore[type-arg]
    platform_sessions: async_sessionmaker[AsyncSession],
) -> None:
    idle = (await client.get("/health/ready")).json()["checks"]
    assert "job_worker" not in idle  # this process runs no worker
    assert idle["job_queue"] == {"waiting": 0, "oldest_waiting_seconds": None}
    async with platform_sessions() as session, session.begin():
        await enqueue(session, "provisioning.purge", queue="provisioning", args={"instance_id": str(uuid.uuid4())})
    await asyncio.sleep(1.1)
    queue = (await client.get("/health/ready")).json()["checks"]["job_queue"]
    assert queue["waiting"] == 1
    assert queue["oldest_waiting_seconds"] >= 1.0
