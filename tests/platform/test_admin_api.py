"""Platform admins steer instances, read the audit trail and add database servers."""

from __future__ import annotations

import asyncio
from typing import Any

from litestar.testing import AsyncTestClient
from sqlalchemy.engine import URL
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from tests.conftest import wait_for_status
from tests.platform.api import admin_headers, audit_rows, create_instance, owner_headers
from tests.support import connect


async def test_suspend_resume_and_purge(
    worker_client: AsyncTestClient[Any],
    platform_sessions: async_sessionmaker[AsyncSession],
    platform_url: URL,
    server_url: URL,
) -> None:
    owner = await owner_headers(worker_client)
    admin = await admin_headers(worker_client, platform_sessions)
    instance = await create_instance(worker_client, owner, tier="STANDARD")
    await wait_for_status(worker_client, owner, instance["id"], "READY")
    tenant = {"Host": f"{instance['subdomain']}.kitehub.localhost", **owner}
    base = f"/api/v1/admin/instances/{instance['id']}"

    admin_on_tenant = {"Host": tenant["Host"], **admin}
    assert (await worker_client.get("/tenant/v1/health", headers=admin_on_tenant)).status_code == 403  # no reading

    suspended = await worker_client.post(f"{base}/suspend", json={"reason": "unpaid"}, headers=admin)
    assert (suspended.status_code, suspended.json()["status"]) == (200, "SUSPENDED")
    assert suspended.json()["status_reason"] == "unpaid"
    assert (await worker_client.get("/tenant/v1/health", headers=tenant)).status_code == 403
    assert (await worker_client.post(f"{base}/suspend", headers=admin)).status_code == 409  # already

    resumed = await worker_client.post(f"{base}/resume", headers=admin)
    assert resumed.json()["status"] == "READY"
    assert (await worker_client.get("/tenant/v1/health", headers=tenant)).status_code == 200

    assert (await worker_client.post(f"{base}/retry-provisioning", headers=admin)).status_code == 409  # READY

    purged = await worker_client.delete(f"{base}?purge=true", headers=admin)
    assert purged.status_code == 200
    assert purged.json()["status"] == "DELETED"
    listing = await worker_client.get("/api/v1/admin/instances?status=PURGED", headers=admin)
    for _ in range(100):
        if listing.json()["total"] == 1:
            break
        listing = await worker_client.get("/api/v1/admin/instances?status=PURGED", headers=admin)
    assert listing.json()["items"][0]["id"] == instance["id"]
    async with connect(server_url.set(database="postgres")) as conn:
        assert not await conn.fetchval(
            "SELECT 1 FROM pg_database WHERE datname = $1", f"kh_tenant_{instance['id'].replace('-', '')}"
        )
    for action in ("instance.suspend", "instance.resume", "instance.delete", "instance.purge_requested"):
        rows = await audit_rows(platform_url, action)
        assert rows, action
        assert rows[0]["actor_role"] == "admin"


async def test_listing_filters_and_the_audit_log(
    client: AsyncTestClient[Any], platform_sessions: async_sessionmaker[AsyncSession]
) -> None:
    admin = await admin_headers(client, platform_sessions)
    first, second = await owner_headers(client), await owner_headers(client)
    a = await create_instance(client, first, subdomain="alpha-school", tier="PREMIUM")
    await create_instance(client, second, subdomain="beta-school")
    by_tier = (await client.get("/api/v1/admin/instances?tier=PREMIUM", headers=admin)).json()
    assert [item["id"] for item in by_tier["items"]] == [a["id"]]
    by_owner = (await client.get(f"/api/v1/admin/instances?owner={a['owner_id']}", headers=admin)).json()
    assert by_owner["total"] == 1
    by_name = (await client.get("/api/v1/admin/instances?subdomain=beta", headers=admin)).json()
    assert by_name["items"][0]["subdomain"] == "beta-school"
    assert (await client.get("/api/v1/admin/instances?status=NOPE", headers=admin)).status_code == 422

    log = (await client.get("/api/v1/admin/audit-log?action=instance.create", headers=admin)).json()
    assert log["total"] == 2
    assert {entry["target_id"] for entry in log["items"]} >= {a["id"]}
    mine = (await client.get(f"/api/v1/admin/audit-log?actor={a['owner_id']}", headers=admin)).json()
    assert {entry["action"] for entry in mine["items"]} == {"account.signup", "account.login", "instance.create"}
    future = (await client.get("/api/v1/admin/audit-log?since=2999-01-01T00:00:00Z", headers=admin)).json()
    assert future["total"] == 0


async def test_database_servers(
    client: AsyncTestClient[Any], platform_sessions: async_sessionmaker[AsyncSession], server_url: URL
) -> None:
    admin = await admin_headers(client, platform_sessions)
    listed = (await client.get("/api/v1/admin/database-servers", headers=admin)).json()
    assert [server["name"] for server in listed] == ["default"]
    url = server_url.set(database="postgres", drivername="postgresql").render_as_string(hide_password=False)
    added = await client.post(
        "/api/v1/admin/database-servers", json={"name": "second", "url": url, "max_tenants": 10}, headers=admin
    )
    assert added.status_code == 201, added.text
    assert added.json()["max_tenants"] == 10
    assert "password" not in added.text
    unreachable = await client.post(
        "/api/v1/admin/database-servers",
        json={"name": "third", "url": "postgresql://x:y@127.0.0.1:1/postgres"},
        headers=admin,
    )
    assert unreachable.status_code == 409
    assert "y@" not in unreachable.text
    bad = await client.post(
        "/api/v1/admin/database-servers", json={"name": "fourth", "url": "mysql://x@h/db"}, headers=admin
    )
    assert bad.status_code == 422


async def test_nul_characters_are_422_not_500(
    client: AsyncTestClient[Any], platform_sessions: async_sessionmaker[AsyncSession]
) -> None:
    owner = await owner_headers(client)
    admin = await admin_headers(client, platform_sessions)
    in_body = await client.post(
        "/api/v1/instances", json={"subdomain": "okay-name", "organization_name": "A\x00B"}, headers=owner
    )
    assert in_body.status_code == 422
    assert in_body.json()["errors"][0] == {
        "field": "organization_name",
        "message": "must not contain NUL characters",
        "source": "body",
    }
    in_login = await client.post("/api/v1/auth/login", json={"email": "a\x00@b.vn", "password": "x"})
    assert in_login.status_code == 422
    in_query = await client.get("/api/v1/admin/audit-log?action=a%00b", headers=admin)
    assert in_query.status_code == 422
    assert in_query.headers["content-type"].startswith("application/problem+json")


async def test_fleet_migrations_over_the_api(
    worker_client: AsyncTestClient[Any],
    platform_sessions: async_sessionmaker[AsyncSession],
    platform_url: URL,
) -> None:
    owner = await owner_headers(worker_client)
    admin = await admin_headers(worker_client, platform_sessions)
    instance = await create_instance(worker_client, owner)
    await wait_for_status(worker_client, owner, instance["id"], "READY")

    status = (await worker_client.get("/api/v1/admin/migrations", headers=admin)).json()
    assert sum(status["revisions"].values()) == 1
    started = await worker_client.post("/api/v1/admin/migrations", json={"target": "head"}, headers=admin)
    assert started.status_code == 202
    run_id = started.json()["run_id"]
    for _ in range(100):
        progress = await worker_client.get(f"/api/v1/admin/migrations/{run_id}", headers=admin)
        if progress.status_code == 200 and progress.json()["finished_at"]:
            break
        await asyncio.sleep(0.1)
    assert progress.json()["counts"] == {"SKIPPED": 1}  # already at head: nothing to do, on the record
    assert (
        await worker_client.post("/api/v1/admin/migrations", json={"target": "nope"}, headers=admin)
    ).status_code == 422
    assert (await worker_client.post("/api/v1/admin/migrations", json={}, headers=owner)).status_code == 403
    assert await audit_rows(platform_url, "migration.start")
