"""Billing test helpers: deliveries shaped like SePay's and Casso's, orders made through the API."""

from __future__ import annotations

import itertools
import time
import uuid
from typing import Any

from litestar.testing import AsyncTestClient
from pydantic import SecretStr
from sqlalchemy.engine import URL

from kitehub.platform.payments.webhooks import casso_signature
from tests.platform.api import create_instance, owner_headers
from tests.support import connect

BANK_BIN = "970436"  # Vietcombank
BANK_ACCOUNT = "0071000888999"
SEPAY_KEY = SecretStr("sepay-test-key-4f1c9a")
CASSO_SECRET = SecretStr("casso-test-secret-77d2")
_ids = itertools.count(int(time.time() * 1000) % 10**9)


def sepay_body(content: str, amount: int, *, transaction_id: int | None = None, **extra: Any) -> dict[str, Any]:
    return {
        "id": transaction_id if transaction_id is not None else next(_ids),
        "gateway": "Vietcombank",
        "transactionDate": "2026-11-21 10:15:00",
        "accountNumber": BANK_ACCOUNT,
        "subAccount": None,
        "code": None,
        "content": content,
        "transferType": "in",
        "description": f"BankAPINotify {content}",
        "transferAmount": amount,
        "referenceCode": f"FT{uuid.uuid4().hex[:10].upper()}",
        "accumulated": 0,
        **extra,
    }


def sepay_headers(key: str | None = None) -> dict[str, str]:
    return {"Authorization": f"Apikey {key or SEPAY_KEY.get_secret_value()}"}


async def send_sepay(client: AsyncTestClient[Any], body: dict[str, Any]) -> Any:
    return await client.post("/api/v1/webhooks/sepay", json=body, headers=sepay_headers())


def casso_body(description: str, amount: int, *, transaction_id: int | None = None) -> dict[str, Any]:
    return {
        "error": 0,
        "data": {
            "id": transaction_id if transaction_id is not None else next(_ids),
            "reference": f"MA{uuid.uuid4().hex[:8]}",
            "description": description,
            "amount": amount,
            "runningBalance": 25_000_000,
            "transactionDateTime": "2026-11-21 10:15:00",
            "accountNumber": BANK_ACCOUNT,
            "bankName": "Vietcombank",
            "bankAbbreviation": "VCB",
        },
    }


def casso_headers(body: dict[str, Any], secret: str | None = None, *, at: float | None = None) -> dict[str, str]:
    """Signed now, or at ``at`` (seconds since the epoch)."""
    timestamp = str(int((time.time() if at is None else at) * 1000))
    key = (secret or CASSO_SECRET.get_secret_value()).encode()
    return {"X-Casso-Signature": f"t={timestamp},v1={casso_signature(key, timestamp, body)}"}


async def owner_instance(client: AsyncTestClient[Any]) -> tuple[dict[str, str], str]:
    """An owner (signed up, logged in) and their new instance (on BASIC, in trial)."""
    headers = await owner_headers(client)
    instance = await create_instance(client, headers)
    return headers, str(instance["id"])


async def order(
    client: AsyncTestClient[Any], headers: dict[str, str], instance_id: str, *, tier: str = "BASIC", months: int = 1
) -> dict[str, Any]:
    response = await client.post(
        "/api/v1/payment-orders",
        json={"instance_id": instance_id, "type": "SUBSCRIPTION", "tier": tier, "months": months},
        headers=headers,
    )
    assert response.status_code == 201, response.text
    body: dict[str, Any] = response.json()
    return body


async def fetch(url: URL, query: str, *args: Any) -> list[dict[str, Any]]:
    async with connect(url) as conn:
        return [dict(row) for row in await conn.fetch(query, *args)]


async def execute(url: URL, query: str, *args: Any) -> None:
    async with connect(url) as conn:
        await conn.execute(query, *args)
