"""Owners and their instances over REST."""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from litestar.testing import AsyncTestClient
from sqlalchemy.engine import URL

from tests.conftest import wait_for_status
from tests.platform.api import UA, audit_rows, create_instance, owner_headers
from tests.support import connect


async def test_create_is_accepted_then_provisioned_by_the_worker(
    worker_client: AsyncTestClient[Any], platform_url: URL
) -> None:
    headers = await owner_headers(worker_client)
    response = await worker_client.post(
        "/api/v1/instances", json={"subdomain": "truong-a", "organization_name": "Truong A"}, headers=headers
    )
    assert response.status_code == 202
    body = response.json()
    assert body["status"] == "PROVISIONING"
    assert body["tier"] == "BASIC"
    assert body["subscription"]["status"] == "TRIAL"
    assert response.headers["location"] == f"/api/v1/instances/{body['id']}"
    ready = await wait_for_status(worker_client, headers, body["id"], "READY")
    assert ready["schema_revision"]
    assert ready["tenant_url"] == "http://truong-a.kitehub.localhost/"
    health = await worker_client.get("/tenant/v1/health", headers={"Host": "truong-a.kitehub.localhost", **headers})
    assert health.json()["instance"] == body["id"]
    created = (await audit_rows(platform_url, "instance.create"))[0]
    assert created["user_agent"] == UA["User-Agent"]
    assert created["request_id"]  # the in-process client has no IP; the e2e test checks it
    assert "password" not in str(created["after"])


async def test_the_same_idempotency_key_gives_the_same_answer(client: AsyncTestClient, platform_url: URL) -> None:  # type: ignore[type-arg]
    headers = {**(await owner_headers(client)), "Idempotency-Key": "create-once"}
    body = {"subdomain": "once", "organization_name": "Once", "tier": "STANDARD"}
    first = await client.post("/api/v1/instances", json=body, headers=headers)
    second = await client.post("/api/v1/instances", json=body, headers=headers)
    assert first.status_code == second.status_code == 202
    assert first.json() == second.json()
    assert second.headers["location"] == first.headers["location"]
    different = await client.post("/api/v1/instances", json={**body, "organization_name": "Other"}, headers=headers)
    assert different.status_code == 409
    async with connect(platform_url) as conn:
        assert await conn.fetchval("SELECT count(*) FROM instances WHERE subdomain = 'once'") == 1
        assert await conn.fetchval("SELECT count(*) FROM procrastinate.procrastinate_jobs") == 1


@pytest.mark.parametrize(
    ("body", "status"),
    [
        ({"subdomain": "www", "organization_name": "x"}, 422),
        ({"subdomain": "admin", "organization_name": "x"}, 422),
        ({"subdomain": "-bad", "organization_name": "x"}, 422),
        ({"subdomain": "Bad_Name", "organization_name": "x"}, 422),
        ({"subdomain": "ab", "organization_name": "x"}, 422),
        ({"subdomain": "xn--trng-hoa-iic4085e", "organization_name": "x"}, 422),  # punycode look-alike
        ({"subdomain": "ab--cd", "organization_name": "x"}, 422),  # DNS's reserved label form
        ({"subdomain": "XN--abc", "organization_name": "x"}, 422),
        ({"subdomain": "ok-name", "organization_name": "x", "tier": "GOLD"}, 422),
        ({"subdomain": "ok-name", "organization_name": "   "}, 422),
        ({"subdomain": "ok-name", "organization_name": "x", "owner_id": str(uuid.uuid4())}, 422),
        ({"subdomain": "ok-name"}, 422),
    ],
)
async def test_bad_instances_are_refused(client: AsyncTestClient, body: dict[str, str], status: int) -> None:  # type: ignore[type-arg]
    response = await client.post("/api/v1/instances", json=body, headers=await owner_headers(client))
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/problem+json")


async def test_a_live_subdomain_is_taken_for_everyone(client: AsyncTestClient) -> None:  # type: ignore[type-arg]
    await create_instance(client, await owner_headers(client), subdomain="taken")
    response = await client.post(
        "/api/v1/instances", json={"subdomain": "taken", "organization_name": "x"}, headers=await owner_headers(client)
    )
    assert response.status_code == 409


async def test_list_is_paginated_with_a_total(client: AsyncTestClient) -> None:  # type: ignore[type-arg]
    headers = await owner_headers(client)
    for _ in range(3):
        await create_instance(client, headers)
    await create_instance(client, await owner_headers(client))  # someone else's
    page = (await client.get("/api/v1/instances?limit=2&offset=0", headers=headers)).json()
    rest = (await client.get("/api/v1/instances?limit=2&offset=2", headers=headers)).json()
    assert (page["total"], len(page["items"]), len(rest["items"])) == (3, 2, 1)
    assert (await client.get("/api/v1/instances?limit=0", headers=headers)).status_code == 422
    assert (await client.get("/api/v1/instances?limit=abc", headers=headers)).status_code == 422


async def test_patch_and_bank_account(client: AsyncTestClient, platform_url: URL) -> None:  # type: ignore[type-arg]
    headers = await owner_headers(client)
    instance = await create_instance(client, headers)
    url = f"/api/v1/instances/{instance['id']}"
    renamed = await client.patch(url, json={"organization_name": "Truong Moi", "custom_domain": "Hoc.Example.VN"},
                                 headers=headers)  # fmt: skip
    assert renamed.status_code == 200
    assert (renamed.json()["organization_name"], renamed.json()["custom_domain"]) == ("Truong Moi", "hoc.example.vn")
    assert (await client.patch(url, json={"custom_domain": "not a domain"}, headers=headers)).status_code == 422
    assert (await client.patch(url, json={"custom_domain": "x.kitehub.localhost"}, headers=headers)).status_code == 422
    assert (await client.patch(url, json={"status": "READY"}, headers=headers)).status_code == 422
    for reserved in ("ab--cd.example.vn", "xn--zz!.example.vn", "xn--abc.example.vn"):
        assert (await client.patch(url, json={"custom_domain": reserved}, headers=headers)).status_code == 422
    # its proof is published at _kitehub.<domain>, which must fit DNS's 253 characters too
    longest = ("a" * 61 + ".") * 3 + "b" * 55 + ".vn"
    assert len(longest) == 244
    assert (await client.patch(url, json={"custom_domain": "b" + longest}, headers=headers)).status_code == 422
    assert (await client.patch(url, json={"custom_domain": longest}, headers=headers)).status_code == 200
    idn = await client.patch(url, json={"custom_domain": "xn--trng-hoa-iic4085e.vn"}, headers=headers)
    assert idn.status_code == 200, idn.text  # a real internationalised domain, in punycode
    renamed = await client.patch(url, json={"custom_domain": "hoc.example.vn"}, headers=headers)

    other = await create_instance(client, headers)
    claimed_too = await client.patch(f"/api/v1/instances/{other['id']}", json={"custom_domain": "hoc.example.vn"},
                                     headers=headers)  # fmt: skip
    assert claimed_too.status_code == 200  # an unverified claim blocks nobody (no squatting)
    async with connect(platform_url) as conn:
        await conn.execute(
            "UPDATE instances SET custom_domain_verified_at = now() WHERE id = $1", uuid.UUID(instance["id"])
        )
    third = await create_instance(client, headers)
    taken = await client.patch(f"/api/v1/instances/{third['id']}", json={"custom_domain": "hoc.example.vn"},
                               headers=headers)  # fmt: skip
    assert taken.status_code == 409  # once verified, it is taken

    bank = {"bank_code": "970436", "account_number": "0071000123456", "account_name": "TRUONG MOI",
            "qr_template": "HOCPHI {courseId} {studentName}"}  # fmt: skip
    saved = await client.put(f"{url}/bank-account", json=bank, headers=headers)
    assert saved.status_code == 200
    assert saved.json()["bank_account"]["bank_code"] == "970436"
    assert (
        await client.put(f"{url}/bank-account", json={**bank, "bank_code": "123456"}, headers=headers)
    ).status_code == 422
    assert (
        await client.put(f"{url}/bank-account", json={**bank, "account_number": "12ab"}, headers=headers)
    ).status_code == 422
    assert (
        await client.put(f"{url}/bank-account", json={**bank, "account_number": "1" * 20}, headers=headers)
    ).status_code == 422
    for action in ("instance.update", "instance.bank_account"):
        rows = await audit_rows(platform_url, action)
        assert rows
        assert all(row["user_agent"] == UA["User-Agent"] and row["request_id"] for row in rows)


async def test_delete_stops_tenant_access_at_once(worker_client: AsyncTestClient, platform_url: URL) -> None:  # type: ignore[type-arg]
    headers = await owner_headers(worker_client)
    instance = await create_instance(worker_client, headers)
    await wait_for_status(worker_client, headers, instance["id"], "READY")
    tenant = {"Host": f"{instance['subdomain']}.kitehub.localhost", **headers}
    assert (await worker_client.get("/tenant/v1/health", headers=tenant)).status_code == 200
    deleted = await worker_client.delete(f"/api/v1/instances/{instance['id']}", headers=headers)
    assert deleted.status_code == 200
    assert deleted.json()["status"] == "DELETED"
    assert (await worker_client.get("/tenant/v1/health", headers=tenant)).status_code == 404
    assert (await worker_client.get(f"/api/v1/instances/{instance['id']}", headers=headers)).status_code == 404
    assert await audit_rows(platform_url, "instance.delete")
