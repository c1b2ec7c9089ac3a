"""The subscription state machine as owners live it: trial, payment, period end, grace, the gate."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from litestar.testing import AsyncTestClient
from sqlalchemy.engine import URL
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from kitehub.app import create_app
from kitehub.platform.subscriptions.sweeps import sweep
from kitehub.settings import Settings
from tests.client import ConcurrentTestClient
from tests.conftest import TenantFactory, bearer
from tests.platform.billing.support import fetch, order, owner_instance, send_sepay, sepay_body

Client = AsyncTestClient[Any]
Sessions = async_sessionmaker[AsyncSession]


async def _subscription(client: Client, headers: dict[str, str], instance_id: str) -> dict[str, Any]:
    response = await client.get(f"/api/v1/instances/{instance_id}/subscription", headers=headers)
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


async def _pay(
    client: Client, headers: dict[str, str], instance_id: str, *, tier: str = "BASIC", months: int = 1
) -> None:
    created = await order(client, headers, instance_id, tier=tier, months=months)
    assert (await send_sepay(client, sepay_body(created["transfer_content"], created["amount"]))).status_code == 200


async def _events(platform_url: URL, instance_id: str) -> list[str]:
    rows = await fetch(
        platform_url,
        "SELECT h.event FROM subscription_history h JOIN subscriptions s ON s.id = h.subscription_id"
        " WHERE s.instance_id = $1 ORDER BY h.id",
        uuid.UUID(instance_id),
    )
    return [row["event"] for row in rows]


async def test_a_new_instance_is_on_trial(client: Client) -> None:
    headers, instance_id = await owner_instance(client)

    body = await _subscription(client, headers, instance_id)

    assert body["status"] == "TRIAL"
    assert body["tier"] == "BASIC"
    trial_end = datetime.fromisoformat(body["trial_end"])
    assert abs(trial_end - (datetime.now(UTC) + timedelta(days=14))) < timedelta(minutes=1)
    assert (body["current_period_start"], body["current_period_end"]) == (None, None)
    assert (body["cancel_at_period_end"], body["scheduled_tier"]) == (False, None)


async def test_a_trial_that_ends_unpaid_expires(client: Client, platform_sessions: Sessions, platform_url: URL) -> None:
    headers, instance_id = await owner_instance(client)

    early = await sweep(platform_sessions, datetime.now(UTC) + timedelta(days=13), grace_days=7)
    assert early.trials_ended == 0
    report = await sweep(platform_sessions, datetime.now(UTC) + timedelta(days=14, minutes=1), grace_days=7)

    assert report.trials_ended == 1
    assert (await _subscription(client, headers, instance_id))["status"] == "EXPIRED"
    assert await _events(platform_url, instance_id) == ["created", "trial_ended"]


async def test_an_unpaid_period_is_past_due_then_expired_after_grace(
    client: Client, platform_sessions: Sessions, platform_url: URL
) -> None:
    headers, instance_id = await owner_instance(client)
    await _pay(client, headers, instance_id)
    period_end = datetime.fromisoformat((await _subscription(client, headers, instance_id))["current_period_end"])

    await sweep(platform_sessions, period_end + timedelta(minutes=1), grace_days=7)
    past_due = await _subscription(client, headers, instance_id)
    await sweep(platform_sessions, period_end + timedelta(days=6), grace_days=7)
    still = await _subscription(client, headers, instance_id)
    await sweep(platform_sessions, period_end + timedelta(days=7, minutes=1), grace_days=7)
    expired = await _subscription(client, headers, instance_id)

    assert past_due["status"] == "PAST_DUE"
    assert datetime.fromisoformat(past_due["grace_until"]) == period_end + timedelta(days=7)
    assert still["status"] == "PAST_DUE"
    assert expired["status"] == "EXPIRED"
    assert await _events(platform_url, instance_id) == ["created", "activated", "period_ended", "grace_ended"]


async def test_paying_while_past_due_makes_it_active_again(client: Client, platform_sessions: Sessions) -> None:
    headers, instance_id = await owner_instance(client)
    await _pay(client, headers, instance_id)
    period_end = datetime.fromisoformat((await _subscription(client, headers, instance_id))["current_period_end"])
    await sweep(platform_sessions, period_end + timedelta(minutes=1), grace_days=7)

    await _pay(client, headers, instance_id)

    body = await _subscription(client, headers, instance_id)
    assert body["status"] == "ACTIVE"
    assert body["grace_until"] is None


async def test_cancel_at_period_end_can_be_undone_until_then(
    client: Client, platform_sessions: Sessions, platform_url: URL
) -> None:
    headers, instance_id = await owner_instance(client)
    on_trial = await client.post(f"/api/v1/instances/{instance_id}/subscription/cancel", headers=headers)
    assert on_trial.status_code == 409
    # the problem's own status is the HTTP status; the subscription's has a name of its own
    assert (on_trial.json()["status"], on_trial.json()["subscription_status"]) == (409, "TRIAL")
    await _pay(client, headers, instance_id)

    cancelled = await client.post(f"/api/v1/instances/{instance_id}/subscription/cancel", json={"reason": "closing"},
                                  headers=headers)  # fmt: skip
    resumed = await client.post(f"/api/v1/instances/{instance_id}/subscription/resume", headers=headers)
    cancelled_again = await client.post(f"/api/v1/instances/{instance_id}/subscription/cancel", headers=headers)

    assert (cancelled.status_code, cancelled.json()["cancel_at_period_end"]) == (200, True)
    assert (resumed.status_code, resumed.json()["cancel_at_period_end"]) == (200, False)
    assert cancelled_again.json()["cancel_at_period_end"] is True
    period_end = datetime.fromisoformat(cancelled_again.json()["current_period_end"])
    await sweep(platform_sessions, period_end + timedelta(minutes=1), grace_days=7)
    assert (await _subscription(client, headers, instance_id))["status"] == "CANCELED"
    late_resume = await client.post(f"/api/v1/instances/{instance_id}/subscription/resume", headers=headers)
    assert late_resume.status_code == 409
    actions = await fetch(platform_url, "SELECT action FROM audit_log WHERE action LIKE 'subscription.%' ORDER BY id")
    assert [row["action"] for row in actions] == ["subscription.cancel", "subscription.resume", "subscription.cancel"]


async def _until(check: Callable[[], Awaitable[bool]]) -> None:
    """The router learns of billing changes by NOTIFY: give it a moment, as a client would."""
    for _ in range(100):
        if await check():
            return
        await asyncio.sleep(0.05)
    raise AssertionError("the change never reached the router")


async def test_an_expired_tenant_can_read_but_a_write_needs_a_payment(
    make_tenant: TenantFactory, settings: Settings, platform_sessions: Sessions
) -> None:
    tenant = await make_tenant()
    owner = bearer(settings, tenant.owner_id)
    host = {"Host": f"{tenant.subdomain}.kitehub.localhost", **owner}
    async with ConcurrentTestClient(create_app(settings)) as client:
        created = await client.post("/tenant/v1/courses", json={"name": "Toan 6"}, headers=host)
        assert created.status_code == 201, created.text

        await sweep(platform_sessions, datetime.now(UTC) + timedelta(days=15), grace_days=7)

        async def refused() -> bool:
            response = await client.post("/tenant/v1/courses", json={"name": "Van 6"}, headers=host)
            return response.status_code == 402

        await _until(refused)
        write = await client.post("/tenant/v1/courses", json={"name": "Van 6"}, headers=host)
        read = await client.get("/tenant/v1/courses", headers=host)
        assert write.headers["content-type"].startswith("application/problem+json")
        assert write.json()["subscription_status"] == "EXPIRED"
        assert read.status_code == 200
        assert [course["name"] for course in read.json()["items"]] == ["Toan 6"]

        await _pay(client, owner, str(tenant.id))

        async def accepted() -> bool:
            response = await client.post("/tenant/v1/courses", json={"name": "Van 6"}, headers=host)
            return response.status_code == 201

        await _until(accepted)


async def test_change_tier_during_a_trial_applies_at_once(client: Client, platform_url: URL) -> None:
    headers, instance_id = await owner_instance(client)

    response = await client.post(f"/api/v1/instances/{instance_id}/subscription/change-tier",
                                 json={"tier": "PREMIUM"}, headers=headers)  # fmt: skip

    assert response.status_code == 200, response.text
    assert response.json()["outcome"] == "changed"
    assert response.json()["payment_order"] is None
    assert (await _subscription(client, headers, instance_id))["tier"] == "PREMIUM"
    jobs = await fetch(platform_url, "SELECT args FROM procrastinate.procrastinate_jobs"
                       " WHERE task_name = 'billing.push_instance_config'")  # fmt: skip
    assert len(jobs) == 1  # the tenant's instance_config follows


async def test_an_ended_subscription_buys_a_period_instead_of_changing_tier(
    client: Client, platform_sessions: Sessions
) -> None:
    headers, instance_id = await owner_instance(client)
    await sweep(platform_sessions, datetime.now(UTC) + timedelta(days=15), grace_days=7)

    response = await client.post(f"/api/v1/instances/{instance_id}/subscription/change-tier",
                                 json={"tier": "STANDARD"}, headers=headers)  # fmt: skip
    reactivating = await order(client, headers, instance_id, tier="STANDARD")

    assert response.status_code == 409
    assert "/api/v1/payment-orders" in response.json()["detail"]
    assert reactivating["tier"] == "STANDARD"


async def test_subscriptions_of_other_owners_do_not_exist(client: Client) -> None:
    _, instance_id = await owner_instance(client)
    stranger, _ = await owner_instance(client)
    for method, path in (("GET", ""), ("POST", "/cancel"), ("POST", "/resume")):
        response = await client.request(method, f"/api/v1/instances/{instance_id}/subscription{path}", headers=stranger)
        assert response.status_code == 404
