"""An upgrade order buys the higher tier for the period it was priced for, and for no other.

The exploit this guards against: ask for an upgrade (priced for the days left), pay a 12-month
renewal, then pay the old upgrade order: PREMIUM for 13 months at the price of one. A paid renewal
supersedes the pending upgrade (cancelled, with its reason), and whatever path the upgrade's
money then takes (webhook, group commit, an admin) it waits for review and changes nothing.
"""

from __future__ import annotations

import uuid
from typing import Any

from litestar.testing import AsyncTestClient
from sqlalchemy.engine import URL
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from kitehub.platform.payments.models import BankTransactionStatus
from kitehub.platform.payments.orders import configured_account
from kitehub.platform.payments.settlement_batch import Received, receive_batch
from kitehub.platform.payments.webhooks import sepay_delivery
from kitehub.settings import Settings
from tests.platform.api import admin_headers
from tests.platform.billing.support import execute, fetch, order, owner_instance, send_sepay, sepay_body

Client = AsyncTestClient[Any]
Sessions = async_sessionmaker[AsyncSession]
T = BankTransactionStatus


async def _active_with_pending_upgrade(client: Client) -> tuple[dict[str, str], str, dict[str, Any]]:
    """An owner whose school is ACTIVE on BASIC, with an unpaid upgrade order to PREMIUM."""
    headers, instance_id = await owner_instance(client)
    first = await order(client, headers, instance_id, tier="BASIC", months=1)
    assert (await send_sepay(client, sepay_body(first["transfer_content"], first["amount"]))).status_code == 200
    asked = await client.post(f"/api/v1/instances/{instance_id}/subscription/change-tier", json={"tier": "PREMIUM"},
                              headers=headers)  # fmt: skip
    assert asked.status_code == 200, asked.text
    upgrade: dict[str, Any] = asked.json()["payment_order"]
    return headers, instance_id, upgrade


async def _subscription(client: Client, headers: dict[str, str], instance_id: str) -> dict[str, Any]:
    body: dict[str, Any] = (await client.get(f"/api/v1/instances/{instance_id}/subscription", headers=headers)).json()
    return body


async def _reviewed(platform_url: URL, delivery_id: int) -> dict[str, Any]:
    [row] = await fetch(platform_url, "SELECT status, review_reason FROM bank_transactions"
                        " WHERE provider_transaction_id = $1", str(delivery_id))  # fmt: skip
    return row


async def test_an_upgrade_paid_after_a_renewal_does_not_upgrade_the_renewed_year(
    client: Client, platform_url: URL
) -> None:
    headers, instance_id, upgrade = await _active_with_pending_upgrade(client)
    renewal = await order(client, headers, instance_id, tier="BASIC", months=12)
    assert (await send_sepay(client, sepay_body(renewal["transfer_content"], renewal["amount"]))).status_code == 200
    renewed = await _subscription(client, headers, instance_id)

    late = sepay_body(upgrade["transfer_content"], upgrade["amount"])
    response = await send_sepay(client, late)

    assert response.status_code == 200, response.text  # the money is stored: the bank must not retry
    assert await _subscription(client, headers, instance_id) == renewed  # still BASIC, same period
    assert renewed["tier"] == "BASIC"
    review = await _reviewed(platform_url, late["id"])
    assert review["status"] == "needs_review"
    assert upgrade["order_code"] in review["review_reason"]
    assert renewal["order_code"] in review["review_reason"]  # why: the renewal that superseded it
    stale = (await client.get(f"/api/v1/payment-orders/{upgrade['order_code']}", headers=headers)).json()
    assert stale["status"] == "CANCELLED"
    events = await fetch(
        platform_url,
        "SELECT e.from_status, e.to_status, e.reason FROM payment_order_events e JOIN payment_orders o"
        " ON o.id = e.payment_order_id WHERE o.order_code = $1 ORDER BY e.id",
        upgrade["order_code"],
    )
    assert [(e["from_status"], e["to_status"]) for e in events] == [(None, "PENDING"), ("PENDING", "CANCELLED")]
    assert "renewal" in events[-1]["reason"]

    # the owner asks again and gets the upgrade priced for the renewed period
    again = await client.post(f"/api/v1/instances/{instance_id}/subscription/change-tier", json={"tier": "PREMIUM"},
                              headers=headers)  # fmt: skip
    repriced = again.json()["payment_order"]
    assert repriced["amount"] > 10 * upgrade["amount"]  # thirteen months left, not one
    await send_sepay(client, sepay_body(repriced["transfer_content"], repriced["amount"]))
    upgraded = await _subscription(client, headers, instance_id)
    assert (upgraded["tier"], upgraded["current_period_end"]) == ("PREMIUM", renewed["current_period_end"])


async def test_in_one_batch_a_renewal_then_the_old_upgrade_leaves_the_upgrade_for_review(
    client: Client, settings: Settings, platform_sessions: Sessions, platform_url: URL
) -> None:
    headers, instance_id, upgrade = await _active_with_pending_upgrade(client)
    renewal = await order(client, headers, instance_id, tier="BASIC", months=12)
    account = configured_account(settings)
    batch = [
        Received(sepay_delivery(sepay_body(renewal["transfer_content"], renewal["amount"])), account),
        Received(sepay_delivery(sepay_body(upgrade["transfer_content"], upgrade["amount"])), account),
    ]

    async with platform_sessions() as session, session.begin():
        outcomes = await receive_batch(session, batch)

    assert [outcome.status if outcome else None for outcome in outcomes] == [T.MATCHED, T.NEEDS_REVIEW]
    reason = outcomes[1].reason if outcomes[1] else ""
    assert "priced for the period ending" in (reason or "")
    after = await _subscription(client, headers, instance_id)
    assert after["tier"] == "BASIC"
    stale = (await client.get(f"/api/v1/payment-orders/{upgrade['order_code']}", headers=headers)).json()
    assert stale["status"] == "CANCELLED"  # superseded once the batch's renewal was written


async def test_an_upgrade_priced_for_another_period_is_refused_even_when_still_pending(
    client: Client, platform_url: URL
) -> None:
    """The rule, not the clean-up, is what protects the money: an upgrade order that escaped
    being superseded (its row was busy when the renewal was paid) still does not apply."""
    headers, instance_id, upgrade = await _active_with_pending_upgrade(client)
    await execute(platform_url, "UPDATE subscriptions SET current_period_end = current_period_end"
                  " + interval '1 year' WHERE instance_id = $1", uuid.UUID(instance_id))  # fmt: skip

    late = sepay_body(upgrade["transfer_content"], upgrade["amount"])
    await send_sepay(client, late)

    assert (await _subscription(client, headers, instance_id))["tier"] == "BASIC"
    review = await _reviewed(platform_url, late["id"])
    assert review["status"] == "needs_review"
    assert "priced for the period ending" in review["review_reason"]
    assert "ask for a new upgrade" in review["review_reason"]


async def test_an_admin_cannot_apply_or_confirm_an_upgrade_priced_for_another_period(
    client: Client, platform_sessions: Sessions, platform_url: URL
) -> None:
    headers, instance_id, upgrade = await _active_with_pending_upgrade(client)
    renewal = await order(client, headers, instance_id, tier="BASIC", months=12)
    await send_sepay(client, sepay_body(renewal["transfer_content"], renewal["amount"]))
    late = sepay_body(upgrade["transfer_content"], upgrade["amount"])
    await send_sepay(client, late)
    renewed = await _subscription(client, headers, instance_id)
    admin = await admin_headers(client, platform_sessions)
    [waiting] = (await client.get("/api/v1/admin/bank-transactions?status=needs_review", headers=admin)).json()["items"]

    applied = await client.post(f"/api/v1/admin/bank-transactions/{waiting['id']}/apply",
                                json={"order_code": upgrade["order_code"]}, headers=admin)  # fmt: skip
    confirmed = await client.post(f"/api/v1/admin/payment-orders/{upgrade['order_code']}/confirm", json={},
                                  headers=admin)  # fmt: skip

    for refused in (applied, confirmed):
        assert refused.status_code == 409, refused.text
        assert refused.headers["content-type"].startswith("application/problem+json")
        assert "priced for the period ending" in refused.json()["detail"]
    assert await _subscription(client, headers, instance_id) == renewed
    assert (await _reviewed(platform_url, late["id"]))["status"] == "needs_review"


async def test_a_renewal_paid_while_past_due_supersedes_the_pending_upgrade_too(
    client: Client, platform_url: URL
) -> None:
    """Any paid period moves the period's end, not only an ACTIVE one's: the upgrade priced for
    the old period is cancelled at once rather than left payable until it expires."""
    headers, instance_id, upgrade = await _active_with_pending_upgrade(client)
    await execute(
        platform_url,
        "UPDATE subscriptions SET status = 'PAST_DUE', current_period_end = now(),"
        " current_period_start = now() - interval '1 month' WHERE instance_id = $1",
        uuid.UUID(instance_id),
    )
    renewal = await order(client, headers, instance_id, tier="BASIC", months=1)

    assert (await send_sepay(client, sepay_body(renewal["transfer_content"], renewal["amount"]))).status_code == 200

    assert (await _subscription(client, headers, instance_id))["status"] == "ACTIVE"
    stale = (await client.get(f"/api/v1/payment-orders/{upgrade['order_code']}", headers=headers)).json()
    assert stale["status"] == "CANCELLED"
