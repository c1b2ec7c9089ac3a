from __future__ import annotations

from pathlib import Path

from litestar.testing import AsyncTestClient
from sqlalchemy.engine import URL
from sqlalchemy.ext.asyncio import create_async_engine

from kitehub.app import create_app
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
