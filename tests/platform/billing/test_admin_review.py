"""Admins with money in hand: confirming an order by hand, dismissing a transfer, and who may."""

from __future__ import annotations

from typing import Any

from litestar.testing import AsyncTestClient
from sqlalchemy.engine import URL
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from tests.platform.api import admin_headers
from tests.platform.billing.support import fetch, order, owner_instance, send_sepay, sepay_body

Client = AsyncTestClient[Any]
Sessions = async_sessionmaker[AsyncSession]


async def test_an_admin_confirms_an_order_by_hand_once(
    client: Client, platform_sessions: Sessions, platform_url: URL
) -> None:
    headers, instance_id = await owner_instance(client)
    created = await order(client, headers, instance_id, months=2)
    admin = await admin_headers(client, platform_sessions)
    path = f"/api/v1/admin/payment-orders/{created['order_code']}/confirm"

    by_owner = await client.post(path, json={}, headers=headers)
    confirmed = await client.post(path, json={"reference": "FT26325001", "reason": "seen on the statement"},
                                  headers=admin)  # fmt: skip
    again = await client.post(path, json={}, headers=admin)

    assert by_owner.status_code == 403
    assert confirmed.status_code == 200, confirmed.text
    assert confirmed.json()["status"] == "PAID"
    assert again.status_code == 409
    subscription = (await client.get(f"/api/v1/instances/{instance_id}/subscription", headers=headers)).json()
    assert subscription["status"] == "ACTIVE"
    [audit] = await fetch(
        platform_url, "SELECT actor_role, after FROM audit_log WHERE action = 'payment_order.confirm'"
    )
    assert audit["actor_role"] == "admin"
    assert "FT26325001" in audit["after"]
    [event] = await fetch(platform_url, "SELECT actor_id, reason FROM payment_order_events WHERE to_status = 'PAID'")
    assert event["actor_id"] is not None
    assert "seen on the statement" in event["reason"]


async def test_an_admin_dismisses_money_that_pays_nothing(client: Client, platform_sessions: Sessions) -> None:
    await send_sepay(client, sepay_body("tien nha thang 11", 3_000_000))
    admin = await admin_headers(client, platform_sessions)
    [waiting] = (await client.get("/api/v1/admin/bank-transactions?status=needs_review", headers=admin)).json()["items"]

    dismissed = await client.post(f"/api/v1/admin/bank-transactions/{waiting['id']}/dismiss",
                                  json={"reason": "refunded to the sender"}, headers=admin)  # fmt: skip

    assert dismissed.status_code == 200, dismissed.text
    assert dismissed.json()["status"] == "resolved"
    assert "refunded to the sender" in dismissed.json()["review_reason"]
    assert (await client.get("/api/v1/admin/bank-transactions?status=needs_review", headers=admin)).json()["total"] == 0
    assert (await client.get("/api/v1/admin/bank-transactions?status=RESOLVED", headers=admin)).json()["total"] == 1


async def test_the_review_queue_is_for_admins_and_checks_its_input(client: Client, platform_sessions: Sessions) -> None:
    headers, _ = await owner_instance(client)
    admin = await admin_headers(client, platform_sessions)

    assert (await client.get("/api/v1/admin/bank-transactions", headers=headers)).status_code == 403
    assert (await client.get("/api/v1/admin/bank-transactions?status=lost", headers=admin)).status_code == 422
    missing = "/api/v1/admin/bank-transactions/00000000-0000-0000-0000-000000000000/apply"
    assert (await client.post(missing, json={"order_code": "KH23456789"}, headers=admin)).status_code == 404
    assert (await client.post(missing, json={}, headers=admin)).status_code in (400, 422)
    unknown_order = "/api/v1/admin/payment-orders/KHNOSUCH00/confirm"
    assert (await client.post(unknown_order, json={}, headers=admin)).status_code == 404
