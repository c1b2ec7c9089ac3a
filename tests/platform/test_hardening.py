"""What the first review of the platform API found: each case a user (or attacker) could hit."""

from __future__ import annotations

import asyncio
from typing import Any

from litestar.testing import AsyncTestClient
from sqlalchemy.engine import URL
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from tests.conftest import wait_for_status
from tests.platform.api import admin_headers, create_instance, owner_headers
from tests.support import connect


async def test_another_owners_real_token_is_refused_on_my_tenant(worker_client: AsyncTestClient[Any]) -> None:
    mine, theirs = await owner_headers(worker_client), await owner_headers(worker_client)
    instance = await create_instance(worker_client, mine)
    await wait_for_status(worker_client, mine, instance["id"], "READY")
    host = {"Host": f"{instance['subdomain']}.kitehub.localhost"}
    assert (await worker_client.get("/tenant/v1/health", headers={**host, **mine})).status_code == 200
    assert (await worker_client.get("/tenant/v1/health", headers={**host, **theirs})).status_code == 403


async def test_tokens_of_deactivated_or_deleted_accounts_stop_working(
    client: AsyncTestClient[Any], platform_url: URL
) -> None:
    for change in ("is_active = false", "deleted_at = now()"):
        headers = await owner_headers(client)
        me = (await client.get("/api/v1/me", headers=headers)).json()["id"]
        async with connect(platform_url) as conn:
            await conn.execute(f"UPDATE accounts SET {change} WHERE id = $1", me)  # noqa: S608 - fixed strings
        assert (await client.get("/api/v1/me", headers=headers)).status_code == 401, change


async def test_lockout_cannot_be_dodged_with_case_or_spaces(client: AsyncTestClient[Any]) -> None:
    await owner_headers(client, "dodge@school.vn")
    for variant in ("DODGE@school.vn", " dodge@school.vn", "dodge@SCHOOL.VN ", "Dodge@School.vn", "dodge@school.vn"):
        response = await client.post("/api/v1/auth/login", json={"email": variant, "password": "wrong-password"})
        assert response.status_code == 401
    locked = await client.post("/api/v1/auth/login", json={"email": "dodge@school.vn", "password": "correct-horse-1"})
    assert locked.status_code == 429


async def test_concurrent_changes_to_one_instance_never_500(
    client: AsyncTestClient[Any], platform_sessions: async_sessionmaker[AsyncSession]
) -> None:
    owner = await owner_headers(client)
    instance = await create_instance(client, owner)
    url = f"/api/v1/instances/{instance['id']}"
    bank = {"bank_code": "970436", "account_number": "123456", "account_name": "A"}
    answers = await asyncio.gather(
        *(client.patch(url, json={"organization_name": f"Name {i}"}, headers=owner) for i in range(4)),
        *(client.put(f"{url}/bank-account", json=bank, headers=owner) for _ in range(3)),
    )
    assert {answer.status_code for answer in answers} <= {200, 409}
    assert any(answer.status_code == 200 for answer in answers)


async def test_resume_only_undoes_a_suspension(
    client: AsyncTestClient[Any], platform_sessions: async_sessionmaker[AsyncSession]
) -> None:
    owner = await owner_headers(client)
    admin = await admin_headers(client, platform_sessions)
    instance = await create_instance(client, owner)  # PROVISIONING (no worker here)
    base = f"/api/v1/admin/instances/{instance['id']}"
    for action in ("resume", "suspend"):
        response = await client.post(f"{base}/{action}", headers=admin)
        assert response.status_code == 409, (action, response.text)
    assert (await client.get(f"/api/v1/instances/{instance['id']}", headers=owner)).json()["status"] == "PROVISIONING"


async def test_concurrent_creates_with_one_key_get_one_answer(client: AsyncTestClient[Any], platform_url: URL) -> None:
    headers = {**(await owner_headers(client)), "Idempotency-Key": "burst"}
    body = {"subdomain": "burst-school", "organization_name": "Burst"}
    answers = await asyncio.gather(*(client.post("/api/v1/instances", json=body, headers=headers) for _ in range(6)))
    assert {answer.status_code for answer in answers} == {202}
    assert len({answer.json()["id"] for answer in answers}) == 1
    async with connect(platform_url) as conn:
        assert await conn.fetchval("SELECT count(*) FROM instances WHERE subdomain = 'burst-school'") == 1


async def test_two_owners_racing_for_one_subdomain_get_202_and_409(client: AsyncTestClient[Any]) -> None:
    owners = [await owner_headers(client) for _ in range(2)]
    body = {"subdomain": "contested", "organization_name": "Race"}
    answers = await asyncio.gather(*(client.post("/api/v1/instances", json=body, headers=h) for h in owners))
    assert sorted(answer.status_code for answer in answers) == [202, 409]
