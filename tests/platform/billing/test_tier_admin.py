"""Admins reshaping a tier: audited, visible at once, and pushed into every tenant on it."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import pytest
from litestar.testing import AsyncTestClient
from sqlalchemy.engine import URL
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from kitehub.provisioning.tenant_config import PushOutcome, TenantNotReadyError, push_instance_config
from kitehub.provisioning.vault import Vault
from kitehub.settings import Settings
from tests.conftest import TenantFactory, tenant_password, tenant_url
from tests.platform.api import admin_headers, owner_headers
from tests.platform.billing.support import fetch
from tests.support import connect

Client = AsyncTestClient[Any]
Sessions = async_sessionmaker[AsyncSession]
NEW_FEATURES = {"engagement": True, "media": False, "premium": False}
NEW_BASIC: dict[str, Any] = {
    "monthly_price": 249_000,
    "features": NEW_FEATURES,
    "limitations": {"max_students": 80, "max_courses": None},
    "storage_limit_bytes": 1_073_741_824,
}


async def test_an_admin_replaces_a_tier_and_everyone_sees_it(
    client: Client, platform_sessions: Sessions, platform_url: URL
) -> None:
    admin = await admin_headers(client, platform_sessions)

    response = await client.put("/api/v1/admin/tiers/basic", json=NEW_BASIC, headers=admin)

    assert response.status_code == 200, response.text
    assert response.json()["monthly_price"] == 249_000
    public = {tier["code"]: tier for tier in (await client.get("/api/v1/tiers")).json()}
    assert public["BASIC"]["limitations"] == {"max_students": 80, "max_courses": None}
    assert public["BASIC"]["features"]["engagement"] is True
    assert public["BASIC"]["storage_limit_bytes"] == 1_073_741_824
    [audit] = await fetch(platform_url, "SELECT before, after FROM audit_log WHERE action = 'tier.update'")
    assert json.loads(audit["before"])["monthly_price"] == 199_000
    assert json.loads(audit["after"])["monthly_price"] == 249_000


async def test_only_admins_change_tiers_and_bad_tiers_are_refused(client: Client, platform_sessions: Sessions) -> None:
    owner = await owner_headers(client)
    admin = await admin_headers(client, platform_sessions)

    assert (await client.put("/api/v1/admin/tiers/BASIC", json=NEW_BASIC)).status_code == 401
    assert (await client.put("/api/v1/admin/tiers/BASIC", json=NEW_BASIC, headers=owner)).status_code == 403
    assert (await client.put("/api/v1/admin/tiers/GOLD", json=NEW_BASIC, headers=admin)).status_code == 404
    bad_bodies = [
        {**NEW_BASIC, "monthly_price": -1},
        {**NEW_BASIC, "monthly_price": 1.5},
        {**NEW_BASIC, "features": {"engagement": True}},
        {**NEW_BASIC, "features": {**NEW_FEATURES, "teleport": True}},
        {**NEW_BASIC, "limitations": {"max_students": -3, "max_courses": None}},
        {**NEW_BASIC, "storage_limit_bytes": "lots"},
        {k: v for k, v in NEW_BASIC.items() if k != "limitations"},
    ]
    for body in bad_bodies:
        response = await client.put("/api/v1/admin/tiers/BASIC", json=body, headers=admin)
        assert response.status_code in (400, 422), (body, response.text)
    assert (await client.get("/api/v1/tiers")).json()[0]["monthly_price"] == 199_000


async def test_the_new_limits_reach_the_tenants_on_that_tier(
    make_tenant: TenantFactory, client: Client, platform_sessions: Sessions, vault: Vault, server_url: URL,
    platform_url: URL,
) -> None:  # fmt: skip
    on_basic = await make_tenant(tier="BASIC")
    on_premium = await make_tenant(tier="PREMIUM")
    admin = await admin_headers(client, platform_sessions)

    response = await client.put("/api/v1/admin/tiers/BASIC", json=NEW_BASIC, headers=admin)

    assert response.json()["instances_updating"] == 1
    jobs = await fetch(platform_url, "SELECT args FROM procrastinate.procrastinate_jobs"
                       " WHERE task_name = 'billing.push_instance_config'")  # fmt: skip
    assert [json.loads(job["args"])["instance_id"] for job in jobs] == [str(on_basic.id)]
    assert await push_instance_config(platform_sessions, vault, on_basic.id) is PushOutcome.PUSHED
    basic = tenant_url(server_url, on_basic, await tenant_password(platform_sessions, vault, on_basic.id))
    premium = tenant_url(server_url, on_premium, await tenant_password(platform_sessions, vault, on_premium.id))
    async with connect(basic) as conn:
        config = await conn.fetchrow("SELECT limitations, storage_limit_bytes FROM instance_config")
    assert config is not None
    assert json.loads(config["limitations"]) == {"max_students": 80, "max_courses": None}
    assert config["storage_limit_bytes"] == 1_073_741_824
    async with connect(premium) as conn:
        untouched = await conn.fetchrow("SELECT tier_code, limitations FROM instance_config")
    assert untouched is not None
    assert untouched["tier_code"] == "PREMIUM"
    assert json.loads(untouched["limitations"]) == {"max_students": None, "max_courses": None}


async def test_the_worker_pushes_a_tier_change_into_the_tenant(
    worker_client: Client, settings: Settings, platform_sessions: Sessions, vault: Vault, server_url: URL,
    default_server: Any, provisioner: Any, make_tenant: TenantFactory,
) -> None:  # fmt: skip
    tenant = await make_tenant(tier="BASIC")
    admin = await admin_headers(worker_client, platform_sessions)
    database = tenant_url(server_url, tenant, await tenant_password(platform_sessions, vault, tenant.id))

    await worker_client.put("/api/v1/admin/tiers/BASIC", json=NEW_BASIC, headers=admin)

    for _ in range(200):
        async with connect(database) as conn:
            limitations = json.loads(await conn.fetchval("SELECT limitations FROM instance_config"))
        if limitations["max_students"] == 80:
            break
        await asyncio.sleep(0.1)
    else:
        raise AssertionError("the worker never pushed the new limits")


async def test_a_push_waits_for_a_tenant_still_being_provisioned(
    make_tenant: TenantFactory, platform_sessions: Sessions, vault: Vault
) -> None:
    waiting = await make_tenant(provision=False)
    with pytest.raises(TenantNotReadyError):
        await push_instance_config(platform_sessions, vault, waiting.id)
