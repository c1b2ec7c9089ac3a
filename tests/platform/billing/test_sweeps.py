"""The minute sweep: safe to run on several workers at once, registered as a periodic job."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

from sqlalchemy.engine import URL
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from kitehub.jobs import create_job_app
from kitehub.platform.payments.models import PaymentOrderKind, PaymentOrderType
from kitehub.platform.payments.orders import ReceivingAccount, create_order
from kitehub.platform.subscriptions.jobs import SWEEP
from kitehub.platform.subscriptions.sweeps import BATCH, sweep
from tests.conftest import TenantFactory
from tests.platform.billing.support import fetch

Sessions = async_sessionmaker[AsyncSession]


async def test_two_workers_sweeping_together_move_each_subscription_once(
    make_tenant: TenantFactory, platform_sessions: Sessions, platform_url: URL
) -> None:
    for _ in range(40):
        await make_tenant(provision=False)
    later = datetime.now(UTC) + timedelta(days=15)

    reports = await asyncio.gather(*(sweep(platform_sessions, later, grace_days=7) for _ in range(3)))

    assert sum(report.trials_ended for report in reports) == 40
    ended = await fetch(platform_url, "SELECT subscription_id FROM subscription_history WHERE event = 'trial_ended'")
    assert len(ended) == len({row["subscription_id"] for row in ended}) == 40


async def test_more_than_a_batch_is_swept_in_one_run(
    make_tenant: TenantFactory, platform_sessions: Sessions, platform_url: URL
) -> None:
    instance = await make_tenant(provision=False)
    async with platform_sessions() as session, session.begin():
        # many pending orders past their time, more than one batch
        account = ReceivingAccount("970436", "0071000888999", "KITEHUB")
        for _ in range(BATCH + 5):
            await create_order(session, instance=instance, order_type=PaymentOrderType.SUBSCRIPTION,
                               kind=PaymentOrderKind.PERIOD,
                               amount=199_000, account=account, expires_at=datetime.now(UTC) - timedelta(hours=1),
                               created_by=None, tier_code="BASIC", months=1)  # fmt: skip

    report = await sweep(platform_sessions, datetime.now(UTC), grace_days=7)

    assert report.orders_expired == BATCH + 5
    rows = await fetch(platform_url, "SELECT status, count(*) AS n FROM payment_orders GROUP BY status")
    assert [(row["status"], row["n"]) for row in rows] == [("EXPIRED", BATCH + 5)]


def test_the_sweep_is_a_periodic_job_every_minute(platform_url: URL) -> None:
    app = create_job_app(platform_url)
    periodic = {task.task.name: task.cron for task in app.periodic_registry.periodic_tasks.values()}
    assert periodic[SWEEP] == "* * * * *"
