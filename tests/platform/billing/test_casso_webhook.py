"""Casso v2 deliveries: signed with HMAC-SHA512 over the sorted compact body."""

from __future__ import annotations

import hashlib
import hmac
from typing import Any

from litestar.testing import AsyncTestClient
from sqlalchemy.engine import URL

from kitehub.platform.payments.webhooks import canonical_json, casso_signature
from tests.platform.billing.support import casso_body, casso_headers, fetch, order, owner_instance

Client = AsyncTestClient[Any]


def test_the_signed_text_is_compact_sorted_json_at_every_depth() -> None:
    body = {"data": {"b": 1, "a": "Thanh toán", "c": {"z": 0, "y": [2, 1]}}, "error": 0}

    assert canonical_json(body) == '{"data":{"a":"Thanh toán","b":1,"c":{"y":[2,1],"z":0}},"error":0}'
    expected = hmac.new(b"k", b"1700000000000." + canonical_json(body).encode(), hashlib.sha512).hexdigest()
    assert casso_signature(b"k", "1700000000000", body) == expected


async def test_a_signed_delivery_pays_the_order(client: Client) -> None:
    headers, instance_id = await owner_instance(client)
    created = await order(client, headers, instance_id)
    body = casso_body(f"{created['transfer_content']} Chuyển tiền", created["amount"])

    response = await client.post("/api/v1/webhooks/casso", json=body, headers=casso_headers(body))

    assert response.status_code == 200, response.text
    paid = (await client.get(f"/api/v1/payment-orders/{created['order_code']}", headers=headers)).json()
    assert paid["status"] == "PAID"


async def test_a_repeat_is_acknowledged_and_changes_nothing(client: Client, platform_url: URL) -> None:
    headers, instance_id = await owner_instance(client)
    created = await order(client, headers, instance_id)
    body = casso_body(created["transfer_content"], created["amount"])

    for _ in range(2):
        assert (await client.post("/api/v1/webhooks/casso", json=body, headers=casso_headers(body))).status_code == 200

    assert len(await fetch(platform_url, "SELECT 1 FROM bank_transactions")) == 1


async def test_a_bad_or_missing_signature_is_refused(client: Client, platform_url: URL) -> None:
    body = casso_body("KITEHUB KH23456789", 199_000)
    tampered = {**body, "data": {**body["data"], "amount": 9_999_999}}

    responses = [
        await client.post("/api/v1/webhooks/casso", json=body),
        await client.post("/api/v1/webhooks/casso", json=body, headers=casso_headers(body, secret="other")),
        await client.post("/api/v1/webhooks/casso", json=tampered, headers=casso_headers(body)),
        await client.post("/api/v1/webhooks/casso", json=body, headers={"X-Casso-Signature": "garbage"}),
    ]

    assert [r.status_code for r in responses] == [401, 401, 401, 401]
    assert await fetch(platform_url, "SELECT 1 FROM bank_transactions") == []


async def test_money_going_out_is_recorded_as_outgoing(client: Client, platform_url: URL) -> None:
    body = casso_body("phi dich vu", -11_000)

    assert (await client.post("/api/v1/webhooks/casso", json=body, headers=casso_headers(body))).status_code == 200

    [row] = await fetch(platform_url, "SELECT direction, amount, status FROM bank_transactions")
    assert (row["direction"], row["amount"], row["status"]) == ("out", 11_000, "ignored")
