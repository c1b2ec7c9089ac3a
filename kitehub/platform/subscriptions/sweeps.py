"""Time-driven transitions: trials, periods and grace that end, orders that expire.

Each sweep takes a batch of due rows ``FOR UPDATE SKIP LOCKED``, so several workers running the
same sweep share the rows instead of waiting on each other or moving a row twice; the caller
commits each batch. The NOTIFY trigger on ``subscriptions`` then updates every router's gate.
"""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import partial
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from kitehub.platform.payments.orders import expire_due_orders
from kitehub.platform.subscriptions.config_push import schedule_config_push
from kitehub.platform.subscriptions.lifecycle import change
from kitehub.platform.subscriptions.models import Subscription, SubscriptionStatus
from kitehub.platform.subscriptions.usage import Usage, exceeded_limits
from kitehub.platform.tiers.models import Tier

S = SubscriptionStatus
BATCH = 500


async def _due(session: AsyncSession, status: SubscriptionStatus, column: str, now: datetime) -> list[Subscription]:
    moment = getattr(Subscription, column)
    return list(
        await session.scalars(
            select(Subscription)
            .where(Subscription.status == status, moment <= now)
            .order_by(moment)
            .limit(BATCH)
            .with_for_update(skip_locked=True)
        )
    )


async def end_trials(session: AsyncSession, now: datetime) -> int:
    due = await _due(session, S.TRIAL, "trial_end", now)
    for subscription in due:
        change(session, subscription, event="trial_ended", to_status=S.EXPIRED, reason="trial ended unpaid")
    await session.flush()
    return len(due)


UsageOf = Callable[[uuid.UUID], Awaitable[Usage | None]]


async def end_periods(session: AsyncSession, now: datetime, *, grace_days: int, usage_of: UsageOf | None = None) -> int:
    """ACTIVE past period end: CANCELED if asked, else PAST_DUE with grace (a scheduled
    downgrade takes effect first, so the next payment is for the new tier).

    The downgrade is checked against usage again (``usage_of``; None when it cannot be read):
    the school may have grown since it was scheduled, and a downgrade is refused while usage does
    not fit. It then stays on its tier, with a history row listing what did not fit."""
    due = await _due(session, S.ACTIVE, "current_period_end", now)
    downgraded = []
    for subscription in due:
        assert subscription.current_period_end is not None
        if subscription.cancel_at_period_end:
            change(session, subscription, event="canceled", to_status=S.CANCELED, scheduled_tier_code=None,
                   reason="cancelled at period end")  # fmt: skip
            continue
        if subscription.scheduled_tier_code is not None:
            refusal = await _downgrade_refusal(session, subscription, usage_of)
            if refusal is None:
                change(session, subscription, event="downgraded", tier_code=subscription.scheduled_tier_code,
                       scheduled_tier_code=None, reason="scheduled downgrade at period end")  # fmt: skip
                downgraded.append(subscription.instance_id)
            else:
                change(session, subscription, event="downgrade_refused", scheduled_tier_code=None,
                       reason=refusal[0], details={"exceeded": refusal[1]})  # fmt: skip
        change(session, subscription, event="period_ended", to_status=S.PAST_DUE, reason="period ended unpaid",
               grace_until=subscription.current_period_end + timedelta(days=grace_days))  # fmt: skip
    await session.flush()
    await schedule_config_push(session, downgraded)
    return len(due)


async def _downgrade_refusal(
    session: AsyncSession, subscription: Subscription, usage_of: UsageOf | None
) -> tuple[str, list[dict[str, Any]]] | None:
    if usage_of is None:
        return None
    target = await session.get(Tier, subscription.scheduled_tier_code)
    usage = await usage_of(subscription.instance_id)
    if target is None or usage is None:
        return "the school's usage could not be read: it stays on its tier", []
    exceeded = exceeded_limits(usage, target)
    if exceeded:
        return f"the school no longer fits {target.code}: it stays on {subscription.tier_code}", exceeded
    return None


async def end_grace(session: AsyncSession, now: datetime) -> int:
    due = await _due(session, S.PAST_DUE, "grace_until", now)
    for subscription in due:
        change(session, subscription, event="grace_ended", to_status=S.EXPIRED, reason="grace period ended unpaid")
    await session.flush()
    return len(due)


@dataclass(slots=True)
class SweepReport:
    orders_expired: int = 0
    trials_ended: int = 0
    periods_ended: int = 0
    grace_ended: int = 0


async def sweep(
    sessions: async_sessionmaker[AsyncSession], now: datetime, *, grace_days: int, usage_of: UsageOf | None = None
) -> SweepReport:
    """Run every sweep until nothing is due, one committed batch at a time."""
    report = SweepReport()
    steps: tuple[tuple[str, Callable[[AsyncSession], Awaitable[int]]], ...] = (
        ("orders_expired", partial(expire_due_orders, now=now, limit=BATCH)),
        ("trials_ended", partial(end_trials, now=now)),
        ("periods_ended", partial(end_periods, now=now, grace_days=grace_days, usage_of=usage_of)),
        ("grace_ended", partial(end_grace, now=now)),  # after periods: a long-overdue one goes all the way
    )
    for name, step in steps:
        while True:
            async with sessions() as session, session.begin():
                moved = await step(session)
            setattr(report, name, getattr(report, name) + moved)
            if moved < BATCH:
                break
    return report
