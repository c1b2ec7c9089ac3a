"""Group commit of bank deliveries: a batch settles as if its deliveries came one after another,
concurrent deliveries share transactions, and a delivery that breaks its batch fails alone."""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from litestar.testing import AsyncTestClient
from sqlalchemy.engine import URL
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from kitehub.db import create_platform_engine, session_factory
from kitehub.errors import ServiceUnavailableError
from kitehub.platform.payments.models import BankTransactionStatus
from kitehub.platform.payments.orders import configured_account
from kitehub.platform.payments.settlement import Outcome
from kitehub.platform.payments.settlement_batch import Received, SettlementBatcher, receive_batch
from kitehub.platform.payments.webhooks import sepay_delivery
from kitehub.settings import Settings
from tests.platform.billing.support import execute, fetch, order, owner_instance, send_sepay, sepay_body

Client = AsyncTestClient[Any]
T = BankTransactionStatus


async def test_a_batch_settles_as_if_one_delivery_came_after_another(
    client: Client, settings: Settings, platform_sessions: async_sessionmaker[AsyncSession], platform_url: URL
) -> None:
    headers, instance_id = await owner_instance(client)
    created = await order(client, headers, instance_id)
    stored_before = sepay_body("chuyen tien", 10_000)
    await send_sepay(client, stored_before)
    payment = sepay_body(created["transfer_content"], created["amount"])
    second_transfer = sepay_body(created["transfer_content"], created["amount"])
    school_copy = sepay_body(created["transfer_content"], created["amount"])  # to a school's account
    account = configured_account(settings)
    batch = [
        Received(sepay_delivery(payment), account),
        Received(sepay_delivery(payment), account),  # a copy in the same batch
        Received(sepay_delivery(second_transfer), account),
        Received(sepay_delivery(school_copy), None, instance_id=uuid.UUID(instance_id)),
        Received(sepay_delivery(sepay_body("rut tien", 5_000, transferType="out")), account),
        Received(sepay_delivery(stored_before), account),  # a copy of a delivery stored earlier
    ]

    async with platform_sessions() as session, session.begin():
        outcomes = await receive_batch(session, batch)

    assert [outcome.status if outcome else None for outcome in outcomes] == [
        T.MATCHED, None, T.NEEDS_REVIEW, T.NEEDS_REVIEW, T.IGNORED, None,
    ]  # fmt: skip
    reasons = [outcome.reason if outcome else None for outcome in outcomes]
    assert "PAID" in (reasons[2] or "")
    assert "no payment order code" in (reasons[3] or "")  # a school's account pays no platform order
    rows = await fetch(platform_url, "SELECT provider_transaction_id AS id, status FROM bank_transactions")
    assert sorted((row["id"], row["status"]) for row in rows) == sorted([
        (str(stored_before["id"]), "needs_review"), (str(payment["id"]), "matched"),
        (str(second_transfer["id"]), "needs_review"), (str(school_copy["id"]), "needs_review"),
        (str(batch[4].delivery.transaction_id), "ignored"),
    ])  # fmt: skip
    assert (await client.get(f"/api/v1/payment-orders/{created['order_code']}", headers=headers)).json()[
        "status"
    ] == "PAID"
    history = await fetch(
        platform_url,
        "SELECT h.event FROM subscription_history h JOIN subscriptions s ON s.id = h.subscription_id"
        " WHERE s.instance_id = $1 ORDER BY h.id",
        uuid.UUID(instance_id),
    )
    assert [row["event"] for row in history] == ["created", "activated"]  # paid once


async def test_concurrent_deliveries_share_transactions_and_each_gets_its_answer(
    settings: Settings, platform_sessions: async_sessionmaker[AsyncSession], platform_url: URL
) -> None:
    batcher = SettlementBatcher(platform_sessions)
    bodies = [sepay_body(f"chuyen tien {n}", 1_000 + n) for n in range(30)]
    account = configured_account(settings)

    outcomes = await asyncio.gather(*(batcher.receive(Received(sepay_delivery(b), account)) for b in bodies))
    await batcher.close()

    assert all(outcome is not None and outcome.status is T.NEEDS_REVIEW for outcome in outcomes)
    assert batcher.batches < len(bodies)  # several deliveries per transaction
    rows = await fetch(platform_url, "SELECT amount FROM bank_transactions")
    assert sorted(row["amount"] for row in rows) == [1_000 + n for n in range(30)]


async def test_a_delivery_the_database_refuses_fails_alone(
    settings: Settings, platform_sessions: async_sessionmaker[AsyncSession], platform_url: URL
) -> None:
    batcher = SettlementBatcher(platform_sessions)
    account = configured_account(settings)
    good = [sepay_body(f"hoc phi {n}", 2_000 + n) for n in range(5)]
    bad = sepay_body("hoc phi", 9_999, gateway="VCB\u0000")  # jsonb cannot hold a NUL character

    results = await asyncio.gather(
        *(batcher.receive(Received(sepay_delivery(body), account)) for body in [*good[:2], bad, *good[2:]]),
        return_exceptions=True,
    )
    await batcher.close()

    assert isinstance(results[2], DBAPIError)
    others = [result for n, result in enumerate(results) if n != 2]
    assert all(isinstance(result, Outcome) and result.status is T.NEEDS_REVIEW for result in others)
    assert batcher.batches == 5  # the failed batch of six, then one transaction for each good delivery
    rows = await fetch(platform_url, "SELECT amount FROM bank_transactions")
    assert sorted(row["amount"] for row in rows) == [2_000 + n for n in range(5)]


async def test_closing_answers_every_waiting_delivery(
    settings: Settings, platform_sessions: async_sessionmaker[AsyncSession], platform_url: URL
) -> None:
    batcher = SettlementBatcher(platform_sessions, max_batch=2)
    account = configured_account(settings)
    waiting = [
        asyncio.ensure_future(batcher.receive(Received(sepay_delivery(sepay_body("x", 3_000 + n)), account)))
        for n in range(7)
    ]
    await asyncio.sleep(0)  # every delivery handed over

    await batcher.close()

    assert len(await fetch(platform_url, "SELECT 1 FROM bank_transactions")) == 7  # stored before close returned
    assert all(outcome is not None for outcome in await asyncio.gather(*waiting))


async def test_two_payments_for_one_subscription_in_a_batch_both_count_in_order(
    client: Client, settings: Settings, platform_sessions: async_sessionmaker[AsyncSession], platform_url: URL
) -> None:
    headers, instance_id = await owner_instance(client)
    first = await order(client, headers, instance_id, months=1)
    second = await order(client, headers, instance_id, months=2)
    account = configured_account(settings)
    batch = [
        Received(sepay_delivery(sepay_body(first["transfer_content"], first["amount"])), account),
        Received(sepay_delivery(sepay_body(second["transfer_content"], second["amount"])), account),
    ]

    async with platform_sessions() as session, session.begin():
        outcomes = await receive_batch(session, batch)

    assert [outcome.status if outcome else None for outcome in outcomes] == [T.MATCHED, T.MATCHED]
    subscription = (await client.get(f"/api/v1/instances/{instance_id}/subscription", headers=headers)).json()
    start = datetime.fromisoformat(subscription["current_period_start"])
    end = datetime.fromisoformat(subscription["current_period_end"])
    assert subscription["status"] == "ACTIVE"
    assert 88 <= (end - start).days <= 93  # one month, then two more from its end
    history = await fetch(
        platform_url,
        "SELECT h.event, h.from_status, h.to_status FROM subscription_history h"
        " JOIN subscriptions s ON s.id = h.subscription_id WHERE s.instance_id = $1 ORDER BY h.id",
        uuid.UUID(instance_id),
    )
    assert [(row["event"], row["from_status"], row["to_status"]) for row in history][1:] == [
        ("activated", "TRIAL", "ACTIVE"), ("renewed", "ACTIVE", "ACTIVE"),
    ]  # fmt: skip


async def test_a_delivery_is_settled_as_of_its_arrival(
    client: Client, settings: Settings, platform_sessions: async_sessionmaker[AsyncSession], platform_url: URL
) -> None:
    headers, instance_id = await owner_instance(client)
    created = await order(client, headers, instance_id)
    arrived = datetime.now(UTC) - timedelta(minutes=2)  # it waited for its batch past the order's expiry
    await execute(platform_url, "UPDATE payment_orders SET expires_at = now() - interval '1 minute'"
                  " WHERE order_code = $1", created["order_code"])  # fmt: skip
    delivery = sepay_delivery(sepay_body(created["transfer_content"], created["amount"]))

    async with platform_sessions() as session, session.begin():
        batch = [Received(delivery, configured_account(settings), received_at=arrived)]
        [outcome] = await receive_batch(session, batch)

    assert outcome is not None
    assert outcome.status is T.MATCHED
    paid = (await client.get(f"/api/v1/payment-orders/{created['order_code']}", headers=headers)).json()
    assert paid["status"] == "PAID"


async def test_deliveries_get_503_when_the_database_cannot_be_reached(settings: Settings, tmp_path: Path) -> None:
    nowhere = URL.create("postgresql+asyncpg", username="x", database="x", query={"host": str(tmp_path), "port": "5"})
    engine = create_platform_engine(nowhere, pool_size=1)
    batcher = SettlementBatcher(session_factory(engine))
    bodies = [sepay_body(f"hoc phi {n}", 1_000) for n in range(3)]
    try:
        results = await asyncio.gather(
            *(batcher.receive(Received(sepay_delivery(b), configured_account(settings))) for b in bodies),
            return_exceptions=True,
        )
    finally:
        await batcher.close()
        await engine.dispose()

    assert all(isinstance(result, ServiceUnavailableError) for result in results), results
    assert all(
        result.headers["Retry-After"] == "30" for result in results if isinstance(result, ServiceUnavailableError)
    )
