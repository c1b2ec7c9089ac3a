"""Bank-transfer confirmations: SePay deliveries settled exactly once, with repeats.

Runs on a throw-away embedded PostgreSQL. N instances each get one PENDING subscription order;
every transfer is delivered ``--copies`` times (SePay retries up to 7 times; copies of one
transfer land in different API processes at the same moment), shuffled, through ``--processes``
API processes (like uvicorn workers), each with the real Litestar app and an in-process client
(ASGI, no sockets: the client's CPU is counted against the server's). ``--direct`` hands the
deliveries to the settlement batcher as the webhook handler does, without the HTTP layer. Prints:
- confirmations/s: orders confirmed (PAID) per second, the issue's target (>= 500 on 2 cores);
- deliveries/s: bank deliveries answered per second, repeats included, and p50/p99 latency of one;
- CPU per order: in the API processes (their client included) and in PostgreSQL, while sending;
- double credits: subscription extensions or PAID events beyond one per order (must be 0), plus
  checks that every order is PAID and every provider transaction is stored once.

Usage: uv run python -m bench.webhooks [-n 2000] [--copies 3] [--processes 2] [--concurrency 8] [--direct]
"""

from __future__ import annotations

import argparse
import asyncio
import multiprocessing
import random
import statistics
import time
import uuid
from concurrent.futures import ProcessPoolExecutor
from datetime import UTC, datetime, timedelta
from pathlib import Path
from tempfile import TemporaryDirectory
from typing import Any

import httpx
from pydantic import SecretStr
from sqlalchemy import make_url, text
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bench.common import bench_platform, postgres_cpu_seconds
from kitehub.app import create_app
from kitehub.db import create_platform_engine, session_factory
from kitehub.platform.accounts.services import ensure_owner_account
from kitehub.platform.instances.services import create_instance
from kitehub.platform.payments.models import PaymentOrderKind, PaymentOrderType
from kitehub.platform.payments.orders import ReceivingAccount, create_order
from kitehub.platform.payments.settlement_batch import Received, SettlementBatcher
from kitehub.platform.payments.webhooks import sepay_delivery
from kitehub.setting_values import generate_encryption_key
from kitehub.settings import load_settings

ACCOUNT = ReceivingAccount("970436", "0071000888999", "KITEHUB BENCH")
API_KEY = "bench-sepay-key"


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(share * (len(ordered) - 1)))]


async def pending_orders(sessions: async_sessionmaker[AsyncSession], count: int) -> list[tuple[str, int]]:
    """(transfer content, amount) of one fresh order per new instance."""
    made: list[tuple[str, int]] = []
    for start in range(0, count, 250):
        async with sessions() as session, session.begin():
            owner = await ensure_owner_account(session, "bench@example.com")
            for _ in range(min(250, count - start)):
                instance = await create_instance(
                    session, owner_id=owner.id, subdomain=f"w-{uuid.uuid4().hex[:12]}", organization_name="bench",
                    tier_code="BASIC", trial_days=14,
                )  # fmt: skip
                order = await create_order(
                    session, instance=instance, order_type=PaymentOrderType.SUBSCRIPTION, kind=PaymentOrderKind.PERIOD,
                    amount=199_000, account=ACCOUNT, expires_at=datetime.now(UTC) + timedelta(hours=24),
                    created_by=owner.id, tier_code="BASIC", months=1,
                )  # fmt: skip
                made.append((order.transfer_content, order.amount))
    return made


def delivery(transaction_id: int, content: str, amount: int) -> dict[str, Any]:
    return {
        "id": transaction_id,
        "gateway": "Vietcombank",
        "transactionDate": "2026-11-21 10:15:00",
        "accountNumber": ACCOUNT.account_number,
        "content": f"MBVCB.{transaction_id}.{content}.CT tu 0071000123456",
        "transferType": "in",
        "transferAmount": amount,
        "referenceCode": f"FT{transaction_id}",
    }


def app_settings(url: str, data_dir: str) -> Any:
    return load_settings(
        env="test",
        data_dir=Path(data_dir),
        database_url=url,
        encryption_keys=generate_encryption_key("bench"),
        jwt_secret="b" * 64,
        platform_bank_bin=ACCOUNT.bin,
        platform_bank_account=ACCOUNT.account_number,
        platform_bank_account_name=ACCOUNT.account_name,
        bank_webhook_api_key=SecretStr(API_KEY),
        log_level="WARNING",
    )


Sent = tuple[list[float], int, float]  # latencies, failures, CPU seconds of the process while sending


async def send_all(url: str, sends: list[dict[str, Any]], concurrency: int, direct: bool) -> Sent:
    """One API process: its own app (or just the settlement service), ``concurrency`` at a time."""
    latencies: list[float] = []
    failures = 0
    queue = list(reversed(sends))
    with TemporaryDirectory() as data_dir:
        settings = app_settings(url, data_dir)
        if direct:
            engine = create_platform_engine(make_url(url))
            sessions = session_factory(engine)

            batcher = SettlementBatcher(sessions)

            async def deliver(body: dict[str, Any]) -> bool:
                await batcher.receive(Received(sepay_delivery(body), ACCOUNT))
                return True

            async def work() -> None:
                nonlocal failures
                while queue:
                    body = queue.pop()
                    began = time.perf_counter()
                    failures += not await deliver(body)
                    latencies.append(time.perf_counter() - began)

            began = time.process_time()
            await asyncio.gather(*(work() for _ in range(concurrency)))
            cpu = time.process_time() - began
            await batcher.close()
            await engine.dispose()
            return latencies, failures, cpu
        app = create_app(settings)
        transport = httpx.ASGITransport(app=app)  # type: ignore[arg-type]
        async with app.lifespan(), httpx.AsyncClient(transport=transport, base_url="http://bench") as client:

            async def post() -> None:
                nonlocal failures
                while queue:
                    body = queue.pop()
                    began = time.perf_counter()
                    response = await client.post(
                        "/api/v1/webhooks/sepay", json=body, headers={"Authorization": f"Apikey {API_KEY}"}
                    )
                    latencies.append(time.perf_counter() - began)
                    failures += response.status_code != 200

            began = time.process_time()
            await asyncio.gather(*(post() for _ in range(concurrency)))
            cpu = time.process_time() - began
    return latencies, failures, cpu


def process_main(url: str, sends: list[dict[str, Any]], concurrency: int, direct: bool, start: Any) -> Any:
    start.wait()  # every process starts sending at the same moment
    return asyncio.run(send_all(url, sends, concurrency, direct))


async def run(count: int, copies: int, concurrency: int, processes: int, direct: bool) -> None:
    async with bench_platform() as platform:
        print(f"creating {count} instances with a pending order each...", flush=True)
        orders = await pending_orders(platform.sessions, count)
        bodies = [delivery(100_000 + n, content, amount) for n, (content, amount) in enumerate(orders)]
        sends = [body for body in bodies for _ in range(copies)]
        random.Random(7).shuffle(sends)  # noqa: S311 - a reproducible order, not a secret
        url = platform.url.render_as_string(hide_password=False)
        share = [sends[n::processes] for n in range(processes)]  # copies of one transfer meet in different processes
        path = "the settlement service" if direct else "the HTTP app (in-process client)"
        print(f"sending {len(sends)} deliveries ({copies} per transfer) through {path}: "
              f"{processes} process(es) x {concurrency} at a time...", flush=True)  # fmt: skip
        context = multiprocessing.get_context("spawn")
        with context.Manager() as manager, ProcessPoolExecutor(processes, mp_context=context) as pool:
            start = manager.Barrier(processes + 1)
            futures = [pool.submit(process_main, url, part, concurrency, direct, start) for part in share]
            await asyncio.to_thread(start.wait)
            began, server_cpu = time.perf_counter(), postgres_cpu_seconds(platform.server_pid)
            results = [await asyncio.wrap_future(future) for future in futures]
            elapsed = time.perf_counter() - began
        server_cpu = postgres_cpu_seconds(platform.server_pid) - server_cpu  # the workers' backends have ended
        latencies = [value for part, _, _ in results for value in part]
        failures = sum(failed for _, failed, _ in results)
        cpu = (sum(spent for _, _, spent in results), server_cpu)
        await report(platform.sessions, count, len(sends), elapsed, latencies, failures, cpu)


async def report(
    sessions: async_sessionmaker[AsyncSession],
    count: int,
    sent: int,
    elapsed: float,
    latencies: list[float],
    failures: int,
    cpu: tuple[float, float],
) -> None:
    async with sessions() as session:
        paid = await session.scalar(text("SELECT count(*) FROM payment_orders WHERE status = 'PAID'"))
        stored = await session.scalar(text("SELECT count(*) FROM bank_transactions"))
        extra_credits = await session.scalar(
            text(
                "SELECT coalesce(sum(n - 1), 0) FROM (SELECT count(*) AS n FROM subscription_history"
                " WHERE payment_order_id IS NOT NULL GROUP BY payment_order_id) AS per_order"
            )
        )
        paid_twice = await session.scalar(
            text(
                "SELECT count(*) FROM (SELECT payment_order_id FROM payment_order_events WHERE to_status = 'PAID'"
                " GROUP BY payment_order_id HAVING count(*) > 1) AS twice"
            )
        )
    confirmations = int(paid or 0)
    print()
    print(f"orders                {count}")
    print(f"deliveries sent       {sent} ({failures} not answered 200)")
    print(f"wall time             {elapsed:.2f} s")
    print(f"confirmations/s       {confirmations / elapsed:.0f}   (orders confirmed PAID per second; target >= 500)")
    print(f"deliveries/s          {sent / elapsed:.0f}   (bank deliveries answered, repeats included)")
    print(
        f"latency p50 / p99     {statistics.median(latencies) * 1000:.1f} / {percentile(latencies, 0.99) * 1000:.1f} ms"
    )
    app_cpu, server_cpu = cpu
    print(f"CPU per order         {app_cpu / count * 1000:.2f} ms in the API processes (client included), "
          f"{server_cpu / count * 1000:.2f} ms in PostgreSQL")  # fmt: skip
    print(f"orders PAID           {confirmations} of {count}")
    print(f"deliveries stored     {stored} (one per provider transaction)")
    print(f"double credits        {int(extra_credits or 0) + int(paid_twice or 0)}   (must be 0)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("-n", type=int, default=2000, help="orders (default 2000)")
    parser.add_argument("--copies", type=int, default=3, help="deliveries of each transfer (default 3)")
    parser.add_argument("--concurrency", type=int, default=8, help="requests at once per process (default 8)")
    parser.add_argument("--processes", type=int, default=2, help="API processes, like uvicorn workers (default 2)")
    parser.add_argument("--direct", action="store_true", help="call the settlement service, no HTTP layer")
    args = parser.parse_args()
    asyncio.run(run(args.n, args.copies, args.concurrency, args.processes, args.direct))


if __name__ == "__main__":
    main()
