"""Changing tier on a paid subscription: upgrades are prorated and paid, downgrades must fit."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from functools import partial
from typing import Any

from litestar.testing import AsyncTestClient
from sqlalchemy.engine import URL
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from kitehub.app import create_app
from kitehub.platform.subscriptions.services import prorated_upgrade_amount
from kitehub.platform.subscriptions.sweeps import sweep
from kitehub.platform.subscriptions.tenant_usage import read_usage
from kitehub.provisioning.tenant_config import PushOutcome, push_instance_config
from kitehub.provisioning.vault import Vault
from kitehub.settings import Settings
from tests.client import ConcurrentTestClient
from tests.conftest import TenantFactory, bearer, tenant_password, tenant_url
from tests.platform.billing.support import execute, fetch, order, owner_instance, send_sepay, sepay_body
from tests.support import connect

Client = AsyncTestClient[Any]
Sessions = async_sessionmaker[AsyncSession]
NOW = datetime(2026, 11, 21, 12, 0, tzinfo=UTC)


def test_the_upgrade_price_is_the_difference_for_the_time_left() -> None:
    half_month = NOW + timedelta(days=15)
    assert prorated_upgrade_amount(199_000, 999_000, now=NOW, period_end=half_month) == 400_000
    assert prorated_upgrade_amount(199_000, 499_000, now=NOW, period_end=NOW + timedelta(days=30)) == 300_000
    # rounded up to a thousand dong, never down, and never nothing
    assert prorated_upgrade_amount(199_000, 499_000, now=NOW, period_end=NOW + timedelta(days=1)) == 10_000
    assert prorated_upgrade_amount(199_000, 499_000, now=NOW, period_end=NOW + timedelta(seconds=1)) == 1_000
    assert prorated_upgrade_amount(199_000, 499_000, now=NOW, period_end=NOW - timedelta(days=1)) == 1_000


async def _pay(client: Client, headers: dict[str, str], instance_id: str, tier: str) -> None:
    created = await order(client, headers, instance_id, tier=tier)
    assert (await send_sepay(client, sepay_body(created["transfer_content"], created["amount"]))).status_code == 200


async def _change(client: Client, headers: dict[str, str], instance_id: str, tier: str) -> Any:
    return await client.post(
        f"/api/v1/instances/{instance_id}/subscription/change-tier", json={"tier": tier}, headers=headers
    )


async def test_an_upgrade_is_priced_for_the_rest_of_the_period_and_applies_when_paid(
    client: Client, platform_url: URL
) -> None:
    headers, instance_id = await owner_instance(client)
    await _pay(client, headers, instance_id, "BASIC")
    await execute(platform_url, "UPDATE subscriptions SET current_period_end = now() + interval '15 days'"
                  " WHERE instance_id = $1", uuid.UUID(instance_id))  # fmt: skip

    response = await _change(client, headers, instance_id, "PREMIUM")

    assert response.status_code == 200, response.text
    body = response.json()
    assert body["outcome"] == "payment_required"
    upgrade = body["payment_order"]
    assert (upgrade["kind"], upgrade["tier"], upgrade["months"]) == ("UPGRADE", "PREMIUM", None)
    assert upgrade["amount"] == 400_000  # (999,000 - 199,000) for half a month
    assert body["subscription"]["tier"] == "BASIC"  # not before it is paid
    period_end = body["subscription"]["current_period_end"]

    await send_sepay(client, sepay_body(upgrade["transfer_content"], upgrade["amount"]))

    after = (await client.get(f"/api/v1/instances/{instance_id}/subscription", headers=headers)).json()
    assert (after["status"], after["tier"]) == ("ACTIVE", "PREMIUM")
    assert after["current_period_end"] == period_end  # the period itself is unchanged


async def test_an_upgrade_paid_after_the_tier_moved_on_is_kept_for_review(client: Client, platform_url: URL) -> None:
    headers, instance_id = await owner_instance(client)
    await _pay(client, headers, instance_id, "BASIC")
    first = (await _change(client, headers, instance_id, "STANDARD")).json()["payment_order"]
    second = (await _change(client, headers, instance_id, "PREMIUM")).json()["payment_order"]
    await send_sepay(client, sepay_body(second["transfer_content"], second["amount"]))

    await send_sepay(client, sepay_body(first["transfer_content"], first["amount"]))

    after = (await client.get(f"/api/v1/instances/{instance_id}/subscription", headers=headers)).json()
    assert after["tier"] == "PREMIUM"
    stale = (await client.get(f"/api/v1/payment-orders/{first['order_code']}", headers=headers)).json()
    assert stale["status"] == "PENDING"
    rows = await fetch(
        platform_url, "SELECT status, review_reason FROM bank_transactions WHERE status = 'needs_review'"
    )
    assert len(rows) == 1
    assert "PREMIUM" in rows[0]["review_reason"]


async def _fill(url: URL, *, students: int, courses: int) -> None:
    async with connect(url) as conn:
        await conn.executemany(
            "INSERT INTO students (id, full_name) VALUES ($1, $2)",
            [(uuid.uuid4(), f"Hoc sinh {n}") for n in range(students)],
        )
        await conn.executemany(
            "INSERT INTO courses (id, name) VALUES ($1, $2)", [(uuid.uuid4(), f"Lop {n}") for n in range(courses)]
        )


async def test_a_downgrade_that_does_not_fit_is_refused_with_each_exceeded_limit(
    make_tenant: TenantFactory, settings: Settings, platform_sessions: Sessions, vault: Vault, server_url: URL,
    platform_url: URL,
) -> None:  # fmt: skip
    tenant = await make_tenant(tier="STANDARD")
    owner = bearer(settings, tenant.owner_id)
    database = tenant_url(server_url, tenant, await tenant_password(platform_sessions, vault, tenant.id))
    await _fill(database, students=51, courses=11)
    await execute(platform_url, "UPDATE storage_usage SET used_bytes = 1024 WHERE instance_id = $1", tenant.id)
    async with ConcurrentTestClient(create_app(settings)) as client:
        await _pay(client, owner, str(tenant.id), "STANDARD")

        refused = await _change(client, owner, str(tenant.id), "BASIC")

        assert refused.status_code == 409, refused.text
        assert refused.headers["content-type"].startswith("application/problem+json")
        assert refused.json()["exceeded"] == [
            {"limit": "max_students", "allowed": 50, "current": 51},
            {"limit": "max_courses", "allowed": 10, "current": 11},
            {"limit": "storage_limit_bytes", "allowed": 0, "current": 1024},
        ]
        assert (await client.get(f"/api/v1/instances/{tenant.id}/subscription", headers=owner)).json()[
            "scheduled_tier"
        ] is None


async def test_a_downgrade_that_fits_waits_for_period_end_and_reaches_the_tenant(
    make_tenant: TenantFactory, settings: Settings, platform_sessions: Sessions, vault: Vault, server_url: URL
) -> None:
    tenant = await make_tenant(tier="STANDARD")
    owner = bearer(settings, tenant.owner_id)
    database = tenant_url(server_url, tenant, await tenant_password(platform_sessions, vault, tenant.id))
    await _fill(database, students=50, courses=10)  # exactly BASIC's limits: fits
    async with ConcurrentTestClient(create_app(settings)) as client:
        await _pay(client, owner, str(tenant.id), "STANDARD")

        scheduled = await _change(client, owner, str(tenant.id), "BASIC")
        assert scheduled.status_code == 200, scheduled.text
        assert scheduled.json()["outcome"] == "scheduled"
        subscription = scheduled.json()["subscription"]
        assert (subscription["tier"], subscription["scheduled_tier"]) == ("STANDARD", "BASIC")
        renewal = await client.post(
            "/api/v1/payment-orders",
            json={"instance_id": str(tenant.id), "type": "SUBSCRIPTION", "tier": "STANDARD", "months": 1},
            headers=owner,
        )
        assert renewal.status_code == 409  # renewing the old tier would contradict the scheduled change

        period_end = datetime.fromisoformat(subscription["current_period_end"])
        await sweep(platform_sessions, period_end + timedelta(minutes=1), grace_days=7)
        after = (await client.get(f"/api/v1/instances/{tenant.id}/subscription", headers=owner)).json()
    assert (after["status"], after["tier"], after["scheduled_tier"]) == ("PAST_DUE", "BASIC", None)

    assert await push_instance_config(platform_sessions, vault, tenant.id) is PushOutcome.PUSHED
    async with connect(database) as conn:
        config = await conn.fetchrow("SELECT tier_code, limitations, storage_limit_bytes FROM instance_config")
    assert config is not None
    assert config["tier_code"] == "BASIC"
    assert '"max_students": 50' in config["limitations"]


async def test_a_scheduled_downgrade_can_be_withdrawn(make_tenant: TenantFactory, settings: Settings) -> None:
    tenant = await make_tenant(tier="STANDARD")
    owner = bearer(settings, tenant.owner_id)
    async with ConcurrentTestClient(create_app(settings)) as client:
        await _pay(client, owner, str(tenant.id), "STANDARD")
        assert (await _change(client, owner, str(tenant.id), "BASIC")).json()["outcome"] == "scheduled"

        withdrawn = await _change(client, owner, str(tenant.id), "STANDARD")
        unchanged = await _change(client, owner, str(tenant.id), "STANDARD")

    assert withdrawn.json()["outcome"] == "unscheduled"
    assert withdrawn.json()["subscription"]["scheduled_tier"] is None
    assert unchanged.json()["outcome"] == "unchanged"


async def test_unknown_tiers_and_bad_bodies_get_problem_details(client: Client) -> None:
    headers, instance_id = await owner_instance(client)
    for body in ({"tier": "GOLD"}, {"tier": ""}, {}, {"tier": "BASIC", "extra": 1}, {"tier": 5}):
        response = await client.post(
            f"/api/v1/instances/{instance_id}/subscription/change-tier", json=body, headers=headers
        )
        assert response.status_code in (400, 422), (body, response.text)


async def test_a_downgrade_the_school_outgrew_is_refused_at_period_end(
    make_tenant: TenantFactory, settings: Settings, platform_sessions: Sessions, vault: Vault, server_url: URL,
    platform_url: URL,
) -> None:  # fmt: skip
    tenant = await make_tenant(tier="STANDARD")
    owner = bearer(settings, tenant.owner_id)
    database = tenant_url(server_url, tenant, await tenant_password(platform_sessions, vault, tenant.id))
    await _fill(database, students=40, courses=2)
    async with ConcurrentTestClient(create_app(settings)) as client:
        await _pay(client, owner, str(tenant.id), "STANDARD")
        scheduled = (await _change(client, owner, str(tenant.id), "BASIC")).json()
        assert scheduled["outcome"] == "scheduled"
        await _fill(database, students=20, courses=0)  # the school grew past BASIC's 50 students since

        period_end = datetime.fromisoformat(scheduled["subscription"]["current_period_end"])
        await sweep(platform_sessions, period_end + timedelta(minutes=1), grace_days=7,
                    usage_of=partial(read_usage, platform_sessions, vault))  # fmt: skip
        after = (await client.get(f"/api/v1/instances/{tenant.id}/subscription", headers=owner)).json()

    assert (after["status"], after["tier"], after["scheduled_tier"]) == ("PAST_DUE", "STANDARD", None)
    [refused] = await fetch(platform_url, "SELECT reason, details FROM subscription_history"
                            " WHERE event = 'downgrade_refused'")  # fmt: skip
    assert "no longer fits BASIC" in refused["reason"]
    assert '"current": 60' in refused["details"]
