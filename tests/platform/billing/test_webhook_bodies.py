"""What a webhook caller can make the platform read and store: a capped body, known fields only,
and (Casso) a signature made within the last five minutes."""

from __future__ import annotations

import json
import time
from collections.abc import AsyncIterator
from typing import Any

from litestar.testing import AsyncTestClient
from sqlalchemy.engine import URL

from kitehub.platform.payments.webhooks import WEBHOOK_MAX_BODY_BYTES
from tests.platform.billing.support import (
    casso_body,
    casso_headers,
    fetch,
    order,
    owner_instance,
    sepay_body,
    sepay_headers,
)

Client = AsyncTestClient[Any]
SCHOOL_KEY = "school-own-sepay-key-3b9d7e1a"


async def _school_webhook(client: Client) -> tuple[str, dict[str, str]]:
    """An owner's instance with its own SePay key: the path and headers its deliveries use."""
    headers, instance_id = await owner_instance(client)
    key = await client.put(f"/api/v1/instances/{instance_id}/webhook-key", json={"api_key": SCHOOL_KEY},
                           headers=headers)  # fmt: skip
    assert key.status_code == 200, key.text
    return f"/api/v1/webhooks/sepay/instances/{instance_id}", {"Authorization": f"Apikey {SCHOOL_KEY}"}


async def test_a_body_over_the_cap_is_refused_with_413_and_nothing_is_stored(client: Client, platform_url: URL) -> None:
    school_path, school_headers = await _school_webhook(client)
    junk = "x" * (WEBHOOK_MAX_BODY_BYTES + 1)
    sepay = sepay_body("KITEHUB KH23456789", 199_000, note=junk)
    casso = casso_body("KITEHUB KH23456789", 199_000)
    casso["data"]["note"] = junk

    answers = [
        await client.post("/api/v1/webhooks/sepay", json=sepay, headers=sepay_headers()),
        await client.post("/api/v1/webhooks/casso", json=casso, headers=casso_headers(casso)),
        await client.post(school_path, json=sepay, headers=school_headers),
    ]

    assert [answer.status_code for answer in answers] == [413, 413, 413]
    for answer in answers:
        assert answer.headers["content-type"].startswith("application/problem+json")
        assert answer.json()["max_body_bytes"] == WEBHOOK_MAX_BODY_BYTES
    assert await fetch(platform_url, "SELECT 1 FROM bank_transactions") == []


async def test_an_endless_body_is_cut_off_without_being_read(client: Client) -> None:
    """No Content-Length (chunked): the platform stops reading once the cap is passed."""
    school_path, school_headers = await _school_webhook(client)
    sent = 0

    async def endless() -> AsyncIterator[bytes]:
        nonlocal sent
        yield b'{"id": 1, "transferType": "in", "transferAmount": 1, "junk": "'
        for _ in range(1024):  # up to 1 GiB
            sent += 1
            yield b"x" * (1024 * 1024)

    answer = await client.post(school_path, content=endless(),
                               headers={**school_headers, "content-type": "application/json"})  # fmt: skip

    assert answer.status_code == 413
    assert sent <= 2  # MiB read before the refusal, not the gigabyte on offer


async def test_only_the_providers_known_fields_are_stored(client: Client, platform_url: URL) -> None:
    school_path, school_headers = await _school_webhook(client)
    junk = "j" * (WEBHOOK_MAX_BODY_BYTES // 4)
    sepay = sepay_body("KITEHUB KH23456789", 199_000, junk=junk, nested={"more": [junk]})
    school = sepay_body("HOCPHI LAN", 800_000, junk=junk)
    casso = casso_body("KITEHUB KH98765432", 199_000)
    casso["data"] = {**casso["data"], "junk": junk, "counterAccountName": "NGUYEN VAN A"}
    casso["extra"] = junk

    answers = [
        await client.post("/api/v1/webhooks/sepay", json=sepay, headers=sepay_headers()),
        await client.post(school_path, json=school, headers=school_headers),
        await client.post("/api/v1/webhooks/casso", json=casso, headers=casso_headers(casso)),
    ]

    assert [answer.status_code for answer in answers] == [200, 200, 200], [a.text for a in answers]
    rows = await fetch(platform_url, "SELECT provider, raw_payload FROM bank_transactions ORDER BY received_at")
    stored = [json.loads(row["raw_payload"]) for row in rows]
    sepay_known = {key: value for key, value in sepay.items() if key not in ("junk", "nested")}
    assert stored[0] == sepay_known
    assert stored[1] == {key: value for key, value in school.items() if key != "junk"}
    assert stored[2] == {"error": 0, "data": {key: value for key, value in casso["data"].items() if key != "junk"}}
    assert all(len(row["raw_payload"]) < 2048 for row in rows)


async def test_a_casso_signature_older_than_five_minutes_or_from_the_future_is_refused(
    client: Client, platform_url: URL
) -> None:
    headers, instance_id = await owner_instance(client)
    created = await order(client, headers, instance_id)
    body = casso_body(created["transfer_content"], created["amount"])
    now = time.time()

    stale = await client.post("/api/v1/webhooks/casso", json=body, headers=casso_headers(body, at=now - 6 * 60))
    ahead = await client.post("/api/v1/webhooks/casso", json=body, headers=casso_headers(body, at=now + 6 * 60))
    assert (stale.status_code, ahead.status_code) == (401, 401)
    assert stale.headers["content-type"].startswith("application/problem+json")
    assert "old" in stale.json()["detail"]
    assert await fetch(platform_url, "SELECT 1 FROM bank_transactions") == []

    recent = await client.post("/api/v1/webhooks/casso", json=body, headers=casso_headers(body, at=now - 4 * 60))
    assert recent.status_code == 200, recent.text
    paid = (await client.get(f"/api/v1/payment-orders/{created['order_code']}", headers=headers)).json()
    assert paid["status"] == "PAID"
