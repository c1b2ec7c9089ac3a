"""SePay deliveries: money becomes subscription time exactly once, and no transfer is ever lost."""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, datetime
from typing import Any

import pytest
from litestar.testing import AsyncTestClient
from sqlalchemy.engine import URL
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from kitehub.errors import ServiceUnavailableError
from kitehub.platform.payments.webhooks import check_sepay_key
from tests.platform.api import admin_headers
from tests.platform.billing.support import (
    execute,
    fetch,
    order,
    owner_instance,
    send_sepay,
    sepay_body,
    sepay_headers,
)

Client = AsyncTestClient[Any]


async def _history(platform_url: URL, instance_id: str) -> list[dict[str, Any]]:
    return await fetch(
        platform_url,
        "SELECT h.* FROM subscription_history h JOIN subscriptions s ON s.id = h.subscription_id"
        " WHERE s.instance_id = $1 ORDER BY h.id",
        uuid.UUID(instance_id),
    )


async def test_a_payment_ends_the_trial_and_starts_the_paid_period(client: Client, platform_url: URL) -> None:
    headers, instance_id = await owner_instance(client)
    created = await order(client, headers, instance_id, tier="STANDARD", months=3)
    assert created["amount"] == 3 * 499_000

    response = await send_sepay(client, sepay_body(created["transfer_content"], created["amount"]))
    assert response.status_code == 200, response.text
    assert response.json() == {"success": True}

    paid = (await client.get(f"/api/v1/payment-orders/{created['order_code']}", headers=headers)).json()
    assert paid["status"] == "PAID"
    assert paid["paid_at"] is not None
    subscription = (await client.get(f"/api/v1/instances/{instance_id}/subscription", headers=headers)).json()
    assert subscription["status"] == "ACTIVE"
    assert subscription["tier"] == "STANDARD"  # the tier paid for, not the trial's BASIC
    start = datetime.fromisoformat(subscription["current_period_start"])
    end = datetime.fromisoformat(subscription["current_period_end"])
    assert abs((start - datetime.now(UTC)).total_seconds()) < 60
    assert 89 <= (end - start).days <= 92  # three calendar months
    events = await fetch(
        platform_url,
        "SELECT e.from_status, e.to_status FROM payment_order_events e JOIN payment_orders o"
        " ON o.id = e.payment_order_id WHERE o.order_code = $1 ORDER BY e.id",
        created["order_code"],
    )
    assert [(e["from_status"], e["to_status"]) for e in events] == [(None, "PENDING"), ("PENDING", "PAID")]


async def test_the_same_delivery_three_times_pays_once(client: Client, platform_url: URL) -> None:
    headers, instance_id = await owner_instance(client)
    created = await order(client, headers, instance_id)
    body = sepay_body(created["transfer_content"], created["amount"])

    for _ in range(3):
        response = await send_sepay(client, body)
        assert response.status_code == 200
        assert response.json() == {"success": True}

    await _assert_paid_once(client, headers, platform_url, instance_id, created["order_code"], body["id"])


async def test_ten_concurrent_copies_pay_once(client: Client, platform_url: URL) -> None:
    headers, instance_id = await owner_instance(client)
    created = await order(client, headers, instance_id)
    body = sepay_body(created["transfer_content"], created["amount"])

    responses = await asyncio.gather(*(send_sepay(client, body) for _ in range(10)))

    assert [r.status_code for r in responses] == [200] * 10
    await _assert_paid_once(client, headers, platform_url, instance_id, created["order_code"], body["id"])


async def _assert_paid_once(
    client: Client, headers: dict[str, str], platform_url: URL, instance_id: str, order_code: str, delivery_id: int
) -> None:
    rows = await fetch(platform_url, "SELECT status FROM bank_transactions WHERE provider_transaction_id = $1",
                       str(delivery_id))  # fmt: skip
    assert [row["status"] for row in rows] == ["matched"]
    assert (await client.get(f"/api/v1/payment-orders/{order_code}", headers=headers)).json()["status"] == "PAID"
    events = [row["event"] for row in await _history(platform_url, instance_id)]
    assert events == ["created", "activated"]  # one extension, not three or ten
    paid_events = await fetch(
        platform_url,
        "SELECT 1 FROM payment_order_events e JOIN payment_orders o ON o.id = e.payment_order_id"
        " WHERE o.order_code = $1 AND e.to_status = 'PAID'",
        order_code,
    )
    assert len(paid_events) == 1


async def test_a_renewal_extends_from_the_end_of_the_period(client: Client) -> None:
    headers, instance_id = await owner_instance(client)
    first = await order(client, headers, instance_id, months=1)
    await send_sepay(client, sepay_body(first["transfer_content"], first["amount"]))
    before = (await client.get(f"/api/v1/instances/{instance_id}/subscription", headers=headers)).json()

    second = await order(client, headers, instance_id, months=2)
    await send_sepay(client, sepay_body(second["transfer_content"], second["amount"]))

    after = (await client.get(f"/api/v1/instances/{instance_id}/subscription", headers=headers)).json()
    assert after["current_period_start"] == before["current_period_start"]
    old_end = datetime.fromisoformat(before["current_period_end"])
    new_end = datetime.fromisoformat(after["current_period_end"])
    assert 58 <= (new_end - old_end).days <= 62  # two months more, counted from the old end


async def test_bank_text_around_the_code_and_any_case_still_match(client: Client) -> None:
    headers, instance_id = await owner_instance(client)
    created = await order(client, headers, instance_id)
    content = f"MBVCB.123456.kitehub-{created['order_code'].lower()}.CT tu 0123 NGUYEN VAN A"

    await send_sepay(client, sepay_body(content, created["amount"]))

    paid = (await client.get(f"/api/v1/payment-orders/{created['order_code']}", headers=headers)).json()
    assert paid["status"] == "PAID"


async def test_an_overpayment_pays_and_records_what_came_in(client: Client) -> None:
    headers, instance_id = await owner_instance(client)
    created = await order(client, headers, instance_id)

    await send_sepay(client, sepay_body(created["transfer_content"], created["amount"] + 1_000))

    paid = (await client.get(f"/api/v1/payment-orders/{created['order_code']}", headers=headers)).json()
    assert paid["status"] == "PAID"
    assert paid["amount_received"] == created["amount"] + 1_000


async def test_underpaid_keeps_the_order_pending_and_the_money_for_review(
    client: Client, platform_url: URL, platform_sessions: async_sessionmaker[AsyncSession]
) -> None:
    headers, instance_id = await owner_instance(client)
    created = await order(client, headers, instance_id)

    await send_sepay(client, sepay_body(created["transfer_content"], created["amount"] - 1))

    assert (await client.get(f"/api/v1/payment-orders/{created['order_code']}", headers=headers)).json()[
        "status"
    ] == "PENDING"
    admin = await admin_headers(client, platform_sessions)
    queue = (await client.get("/api/v1/admin/bank-transactions?status=needs_review", headers=admin)).json()
    assert queue["total"] == 1
    assert queue["items"][0]["order_code"] == created["order_code"]
    assert "underpaid" in queue["items"][0]["review_reason"]
    subscription = (await client.get(f"/api/v1/instances/{instance_id}/subscription", headers=headers)).json()
    assert subscription["status"] == "TRIAL"


async def test_paid_after_expiry_waits_for_an_admin_who_applies_it(
    client: Client, platform_url: URL, platform_sessions: async_sessionmaker[AsyncSession]
) -> None:
    headers, instance_id = await owner_instance(client)
    created = await order(client, headers, instance_id)
    await execute(platform_url, "UPDATE payment_orders SET expires_at = now() - interval '1 minute'"
                  " WHERE order_code = $1", created["order_code"])  # fmt: skip

    await send_sepay(client, sepay_body(created["transfer_content"], created["amount"]))

    late = (await client.get(f"/api/v1/payment-orders/{created['order_code']}", headers=headers)).json()
    assert late["status"] == "EXPIRED"
    admin = await admin_headers(client, platform_sessions)
    queue = (await client.get("/api/v1/admin/bank-transactions?status=needs_review", headers=admin)).json()
    [waiting] = queue["items"]
    assert "EXPIRED" in waiting["review_reason"]
    assert (await client.get(f"/api/v1/instances/{instance_id}/subscription", headers=headers)).json()[
        "status"
    ] == "TRIAL"

    applied = await client.post(
        f"/api/v1/admin/bank-transactions/{waiting['id']}/apply",
        json={"order_code": created["order_code"], "reason": "paid 2 minutes late"},
        headers=admin,
    )

    assert applied.status_code == 200, applied.text
    assert applied.json()["status"] == "resolved"
    paid = (await client.get(f"/api/v1/payment-orders/{created['order_code']}", headers=headers)).json()
    assert paid["status"] == "PAID"
    subscription = (await client.get(f"/api/v1/instances/{instance_id}/subscription", headers=headers)).json()
    assert subscription["status"] == "ACTIVE"
    assert (await client.get("/api/v1/admin/bank-transactions?status=needs_review", headers=admin)).json()["total"] == 0
    audit = await fetch(platform_url, "SELECT actor_role FROM audit_log WHERE action = 'bank_transaction.apply'")
    assert [row["actor_role"] for row in audit] == ["admin"]
    again = await client.post(
        f"/api/v1/admin/bank-transactions/{waiting['id']}/apply",
        json={"order_code": created["order_code"]},
        headers=admin,
    )
    assert again.status_code == 409  # money is applied once


async def test_a_second_transfer_for_a_paid_order_is_kept_for_review(client: Client, platform_url: URL) -> None:
    headers, instance_id = await owner_instance(client)
    created = await order(client, headers, instance_id)
    await send_sepay(client, sepay_body(created["transfer_content"], created["amount"]))

    await send_sepay(client, sepay_body(created["transfer_content"], created["amount"]))

    rows = await fetch(platform_url, "SELECT status, review_reason FROM bank_transactions ORDER BY received_at")
    assert [row["status"] for row in rows] == ["matched", "needs_review"]
    assert "PAID" in rows[1]["review_reason"]
    assert [row["event"] for row in await _history(platform_url, instance_id)] == ["created", "activated"]


async def test_unmatched_and_outgoing_transfers_are_stored_not_dropped(client: Client, platform_url: URL) -> None:
    await send_sepay(client, sepay_body("chuyen tien hoc phi thang 11", 500_000))
    await send_sepay(client, sepay_body("KITEHUB KHZZZZZZZZ", 500_000))  # a code no order has
    await send_sepay(client, sepay_body("rut tien", 100_000, transferType="out"))

    rows = await fetch(
        platform_url, "SELECT status, direction, raw_payload FROM bank_transactions ORDER BY received_at"
    )
    assert [(row["status"], row["direction"]) for row in rows] == [
        ("needs_review", "in"),
        ("needs_review", "in"),
        ("ignored", "out"),
    ]
    assert all(row["raw_payload"] for row in rows)


async def test_money_to_another_account_pays_no_platform_order(client: Client, platform_url: URL) -> None:
    headers, instance_id = await owner_instance(client)
    created = await order(client, headers, instance_id)

    await send_sepay(client, sepay_body(created["transfer_content"], created["amount"], accountNumber="1234567890"))

    assert (await client.get(f"/api/v1/payment-orders/{created['order_code']}", headers=headers)).json()[
        "status"
    ] == "PENDING"
    [row] = await fetch(platform_url, "SELECT status FROM bank_transactions")
    assert row["status"] == "needs_review"


async def test_a_wrong_or_missing_key_is_refused_and_nothing_is_stored(client: Client, platform_url: URL) -> None:
    body = sepay_body("KITEHUB KH23456789", 199_000)

    missing = await client.post("/api/v1/webhooks/sepay", json=body)
    wrong = await client.post("/api/v1/webhooks/sepay", json=body, headers=sepay_headers("guess"))
    bearer = await client.post("/api/v1/webhooks/sepay", json=body, headers={"Authorization": "Bearer x"})

    assert [r.status_code for r in (missing, wrong, bearer)] == [401, 401, 401]
    assert missing.headers["content-type"].startswith("application/problem+json")
    assert await fetch(platform_url, "SELECT 1 FROM bank_transactions") == []


async def test_malformed_deliveries_get_problem_details(client: Client, platform_url: URL) -> None:
    cases: list[Any] = [
        {**sepay_body("x", 1), "transferAmount": -5},
        {**sepay_body("x", 1), "transferType": "sideways"},
        {k: v for k, v in sepay_body("x", 1).items() if k != "id"},
        [sepay_body("x", 1)],
    ]
    for body in cases:
        response = await client.post("/api/v1/webhooks/sepay", json=body, headers=sepay_headers())
        assert response.status_code in (400, 422), (body, response.text)
        assert response.headers["content-type"].startswith("application/problem+json")
    not_json = await client.post(
        "/api/v1/webhooks/sepay", content=b"{nope", headers={**sepay_headers(), "Content-Type": "application/json"}
    )
    assert not_json.status_code == 400
    assert await fetch(platform_url, "SELECT 1 FROM bank_transactions") == []


def test_an_unconfigured_webhook_refuses_every_delivery() -> None:
    with pytest.raises(ServiceUnavailableError, match="KITEHUB_BANK_WEBHOOK_API_KEY"):
        check_sepay_key("Apikey anything", None)
