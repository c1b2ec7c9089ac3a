"""Owners ordering subscription months: what they get to pay with, and every way to get it wrong."""

from __future__ import annotations

import re
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from litestar.testing import AsyncTestClient
from sqlalchemy.engine import URL

from kitehub.app import create_app
from kitehub.platform.payments.vietqr import parse
from kitehub.settings import Settings
from tests.client import ConcurrentTestClient
from tests.platform.api import create_instance, owner_headers
from tests.platform.billing.support import BANK_ACCOUNT, BANK_BIN, fetch, order, owner_instance, send_sepay, sepay_body

Client = AsyncTestClient[Any]


async def test_an_order_carries_everything_needed_to_pay_it(client: Client, platform_url: URL) -> None:
    headers, instance_id = await owner_instance(client)

    response = await client.post(
        "/api/v1/payment-orders",
        json={"instance_id": instance_id, "type": "SUBSCRIPTION", "tier": "STANDARD", "months": 2},
        headers=headers,
    )

    assert response.status_code == 201, response.text
    body = response.json()
    assert re.fullmatch(r"[A-Z0-9]{6,16}", body["order_code"])
    assert response.headers["location"] == f"/api/v1/payment-orders/{body['order_code']}"
    assert body["amount"] == 2 * 499_000
    assert body["transfer_content"] == f"KITEHUB {body['order_code']}"
    assert body["bank"] == {"bin": BANK_BIN, "account_number": BANK_ACCOUNT, "account_name": "CONG TY KITEHUB"}
    assert body["status"] == "PENDING"
    assert (body["tier"], body["months"], body["kind"]) == ("STANDARD", 2, "PERIOD")
    expires = datetime.fromisoformat(body["expires_at"])
    assert abs(expires - (datetime.now(UTC) + timedelta(hours=24))) < timedelta(minutes=1)
    decoded = parse(body["qr_payload"])
    assert (decoded["bank_bin"], decoded["account"], decoded["amount"]) == (BANK_BIN, BANK_ACCOUNT, body["amount"])
    assert decoded["purpose"] == body["transfer_content"]
    assert decoded["dynamic"] is True
    audited = await fetch(platform_url, "SELECT action FROM audit_log WHERE action LIKE 'payment_order.%'")
    assert [row["action"] for row in audited] == ["payment_order.create"]


async def test_order_codes_are_unique(client: Client) -> None:
    headers, instance_id = await owner_instance(client)
    codes = {(await order(client, headers, instance_id))["order_code"] for _ in range(20)}
    assert len(codes) == 20


async def test_the_qr_code_comes_as_svg_and_png(client: Client) -> None:
    headers, instance_id = await owner_instance(client)
    created = await order(client, headers, instance_id)

    svg = await client.get(f"/api/v1/payment-orders/{created['order_code']}/qr.svg", headers=headers)
    png = await client.get(f"/api/v1/payment-orders/{created['order_code']}/qr.png", headers=headers)

    assert svg.status_code == 200
    assert svg.headers["content-type"].startswith("image/svg+xml")
    assert b"<svg" in svg.content
    assert png.status_code == 200
    assert png.headers["content-type"] == "image/png"
    assert png.content.startswith(b"\x89PNG\r\n\x1a\n")


async def test_an_idempotency_key_returns_the_first_order(client: Client, platform_url: URL) -> None:
    headers, instance_id = await owner_instance(client)
    body = {"instance_id": instance_id, "type": "SUBSCRIPTION", "tier": "BASIC", "months": 1}
    keyed = {**headers, "Idempotency-Key": "pay-nov-2026"}

    first = await client.post("/api/v1/payment-orders", json=body, headers=keyed)
    second = await client.post("/api/v1/payment-orders", json=body, headers=keyed)
    other = await client.post("/api/v1/payment-orders", json={**body, "months": 2}, headers=keyed)

    assert (first.status_code, second.status_code) == (201, 201)
    assert first.json() == second.json()
    assert other.status_code == 409
    assert len(await fetch(platform_url, "SELECT 1 FROM payment_orders")) == 1


async def test_orders_of_other_owners_do_not_exist(client: Client) -> None:
    headers, instance_id = await owner_instance(client)
    created = await order(client, headers, instance_id)
    stranger = await owner_headers(client)

    for path in ("", "/qr.svg", "/qr.png"):
        assert (
            await client.get(f"/api/v1/payment-orders/{created['order_code']}{path}", headers=stranger)
        ).status_code == 404
    assert (
        await client.post(f"/api/v1/payment-orders/{created['order_code']}/cancel", headers=stranger)
    ).status_code == 404
    ordering = await client.post(
        "/api/v1/payment-orders",
        json={"instance_id": instance_id, "type": "SUBSCRIPTION", "tier": "BASIC", "months": 1},
        headers=stranger,
    )
    assert ordering.status_code == 404
    assert (await client.get(f"/api/v1/payment-orders/{created['order_code']}")).status_code == 401


async def test_a_cancelled_order_cannot_be_paid_or_cancelled_again(client: Client, platform_url: URL) -> None:
    headers, instance_id = await owner_instance(client)
    created = await order(client, headers, instance_id)

    cancelled = await client.post(f"/api/v1/payment-orders/{created['order_code']}/cancel", headers=headers)
    again = await client.post(f"/api/v1/payment-orders/{created['order_code']}/cancel", headers=headers)
    await send_sepay(client, sepay_body(created["transfer_content"], created["amount"]))

    assert cancelled.status_code == 200
    assert cancelled.json()["status"] == "CANCELLED"
    assert again.status_code == 409
    assert (await client.get(f"/api/v1/payment-orders/{created['order_code']}", headers=headers)).json()[
        "status"
    ] == "CANCELLED"
    [kept] = await fetch(platform_url, "SELECT status FROM bank_transactions")
    assert kept["status"] == "needs_review"


async def test_bad_orders_get_problem_details(client: Client) -> None:
    headers, instance_id = await owner_instance(client)
    base = {"instance_id": instance_id, "type": "SUBSCRIPTION", "tier": "BASIC", "months": 1}
    cases = [
        {**base, "months": 0},
        {**base, "months": 13},
        {**base, "months": "two"},
        {**base, "tier": "GOLD"},
        {**base, "type": "ENROLLMENT"},
        {**base, "instance_id": "not-a-uuid"},
        {**base, "amount": 1},
        {k: v for k, v in base.items() if k != "months"},
    ]
    for body in cases:
        response = await client.post("/api/v1/payment-orders", json=body, headers=headers)
        assert response.status_code in (400, 422), (body, response.text)
        assert response.headers["content-type"].startswith("application/problem+json")
    unknown = await client.post(
        "/api/v1/payment-orders", json={**base, "instance_id": str(uuid.uuid4())}, headers=headers
    )
    assert unknown.status_code == 404
    assert (await client.get("/api/v1/payment-orders/NOSUCHCODE", headers=headers)).status_code == 404


async def test_while_active_only_the_current_tier_can_be_renewed(client: Client) -> None:
    headers, instance_id = await owner_instance(client)
    first = await order(client, headers, instance_id, tier="BASIC")
    await send_sepay(client, sepay_body(first["transfer_content"], first["amount"]))

    other_tier = await client.post(
        "/api/v1/payment-orders",
        json={"instance_id": instance_id, "type": "SUBSCRIPTION", "tier": "PREMIUM", "months": 1},
        headers=headers,
    )

    assert other_tier.status_code == 409
    assert "change-tier" in other_tier.json()["detail"]


async def test_without_a_receiving_account_ordering_says_payments_are_not_configured(
    tmp_path: Path, platform_url: URL
) -> None:
    from tests.conftest import make_settings

    settings: Settings = make_settings(tmp_path / "data", platform_url)  # no KITEHUB_PLATFORM_BANK_*
    async with ConcurrentTestClient(create_app(settings)) as plain:
        headers = await owner_headers(plain)
        instance = await create_instance(plain, headers)
        response = await plain.post(
            "/api/v1/payment-orders",
            json={"instance_id": instance["id"], "type": "SUBSCRIPTION", "tier": "BASIC", "months": 1},
            headers=headers,
        )
    assert response.status_code == 503
    assert "KITEHUB_PLATFORM_BANK_ACCOUNT" in response.json()["detail"]
