"""One owner cannot fill the platform: at most KITEHUB_MAX_INSTANCES_PER_OWNER live instances."""

from __future__ import annotations

import asyncio
import uuid
from typing import Any

from litestar.testing import AsyncTestClient
from sqlalchemy.engine import URL
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from kitehub.app import create_app
from kitehub.settings import Settings
from tests.client import ConcurrentTestClient
from tests.conftest import wait_for_status
from tests.platform.api import admin_headers, create_instance, owner_headers
from tests.support import connect


async def _create(client: AsyncTestClient[Any], headers: dict[str, str]) -> Any:
    body = {"subdomain": f"s-{uuid.uuid4().hex[:10]}", "organization_name": "School"}
    return await client.post("/api/v1/instances", json=body, headers=headers)


async def test_concurrent_creates_stop_exactly_at_the_limit(
    settings: Settings, platform_url: URL, platform_sessions: async_sessionmaker[AsyncSession]
) -> None:
    async with ConcurrentTestClient(create_app(settings.model_copy(update={"max_instances_per_owner": 3}))) as client:
        owner = await owner_headers(client)
        answers = await asyncio.gather(*(_create(client, owner) for _ in range(10)))
        someone_else = await _create(client, await owner_headers(client))
        admin = await admin_headers(client, platform_sessions)
        by_admin = [await _create(client, admin) for _ in range(4)]

    codes = sorted(answer.status_code for answer in answers)
    assert codes == [202] * 3 + [409] * 7
    refused = next(answer for answer in answers if answer.status_code == 409)
    assert refused.headers["content-type"].startswith("application/problem+json")
    problem = refused.json()
    assert (problem["limit"], problem["allowed"], problem["current"]) == ("max_instances_per_owner", 3, 3)
    assert "KITEHUB_MAX_INSTANCES_PER_OWNER" in problem["detail"]
    assert someone_else.status_code == 202  # the limit is per owner
    assert [answer.status_code for answer in by_admin] == [202] * 4  # admins are exempt
    async with connect(platform_url) as conn:
        assert await conn.fetchval("SELECT count(*) FROM instances") == 3 + 1 + 4


async def test_zero_means_no_limit(settings: Settings) -> None:
    async with ConcurrentTestClient(create_app(settings.model_copy(update={"max_instances_per_owner": 0}))) as client:
        owner = await owner_headers(client)
        answers = [await _create(client, owner) for _ in range(7)]
    assert [answer.status_code for answer in answers] == [202] * 7


async def test_the_default_is_five_and_a_deleted_instance_frees_its_place(
    worker_client: AsyncTestClient[Any],
) -> None:
    owner = await owner_headers(worker_client)
    first = await create_instance(worker_client, owner)
    for _ in range(4):
        await create_instance(worker_client, owner)
    sixth = await _create(worker_client, owner)
    assert sixth.status_code == 409, sixth.text
    assert sixth.json()["allowed"] == 5

    await wait_for_status(worker_client, owner, first["id"], "READY")
    deleted = await worker_client.delete(f"/api/v1/instances/{first['id']}", headers=owner)
    assert deleted.status_code == 200, deleted.text
    again = await _create(worker_client, owner)
    assert again.status_code == 202, again.text
