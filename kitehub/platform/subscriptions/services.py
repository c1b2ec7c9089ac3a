"""Subscriptions as money and owners change them: payments, renewals, tier changes, cancellation.

Rules (ARCHITECTURE.md): the first payment ends the trial and starts a paid period at once, on the
tier paid for; a renewal extends from ``max(now, current_period_end)``; an upgrade applies once its
prorated difference is paid, and only to the period it was priced for (a paid renewal supersedes
it: ``order_lifecycle.supersede_upgrades``); a downgrade waits for period end and is refused while
usage does not fit; cancelling is a flag that can be undone until the period ends.
"""

from __future__ import annotations

import math
import uuid
from datetime import UTC, datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from kitehub.errors import ConflictError, NotFoundError
from kitehub.platform.audit.services import AuditActor, record
from kitehub.platform.payments.models import PaymentOrder, PaymentOrderKind
from kitehub.platform.subscriptions.config_push import schedule_config_push
from kitehub.platform.subscriptions.lifecycle import Change, add_months, change, write_change
from kitehub.platform.subscriptions.models import Subscription, SubscriptionStatus
from kitehub.platform.subscriptions.schemas import SubscriptionResponse

S = SubscriptionStatus
SECONDS_PER_BILLING_MONTH = 30 * 86_400
PRORATION_ROUNDING_VND = 1_000  # bank apps and people read round amounts; never under-charge by rounding


class PaymentNotApplicableError(ConflictError):
    """The money is real but the subscription has moved on: an admin must decide (needs_review)."""

    slug, title = "payment-not-applicable", "The payment no longer fits the subscription"


async def subscription_of(session: AsyncSession, instance_id: uuid.UUID, *, for_update: bool = False) -> Subscription:
    query = select(Subscription).where(Subscription.instance_id == instance_id)
    if for_update:
        query = query.with_for_update().execution_options(populate_existing=True)
    subscription = await session.scalar(query)
    if subscription is None:
        raise NotFoundError("the instance has no subscription")
    return subscription


def subscription_view(subscription: Subscription) -> SubscriptionResponse:
    return SubscriptionResponse(
        status=subscription.status.value,
        tier=subscription.tier_code,
        current_period_start=subscription.current_period_start,
        current_period_end=subscription.current_period_end,
        trial_end=subscription.trial_end,
        grace_until=subscription.grace_until,
        cancel_at_period_end=subscription.cancel_at_period_end,
        scheduled_tier=subscription.scheduled_tier_code,
    )


def prorated_upgrade_amount(old_monthly: int, new_monthly: int, *, now: datetime, period_end: datetime) -> int:
    """The price difference for the time left in the period (30-day months), rounded up to 1,000 VND."""
    remaining = max(0.0, (period_end - now).total_seconds())
    exact = (new_monthly - old_monthly) * remaining / SECONDS_PER_BILLING_MONTH
    return max(PRORATION_ROUNDING_VND, math.ceil(exact / PRORATION_ROUNDING_VND) * PRORATION_ROUNDING_VND)


def why_not_applicable(subscription: Subscription, order: PaymentOrder, now: datetime) -> str | None:
    """None when ``order`` can be applied to the subscription as it is now, else the reason."""
    if order.kind is PaymentOrderKind.UPGRADE:
        if subscription.status is not S.ACTIVE:
            return f"an upgrade paid while the subscription is {subscription.status.value}"
        if subscription.tier_code != order.details.get("from_tier"):
            return f"an upgrade from {order.details.get('from_tier')} but the tier is now {subscription.tier_code}"
        if subscription.current_period_end is None or subscription.current_period_end <= now:
            return "an upgrade paid after the period it was priced for ended"
        return _wrong_period(order, subscription.current_period_end)
    if subscription.status is S.ACTIVE and subscription.tier_code != order.tier_code:
        return f"a renewal on {order.tier_code} but the subscription is ACTIVE on {subscription.tier_code}"
    return None


def _wrong_period(order: PaymentOrder, period_end: datetime) -> str | None:
    """An upgrade is priced for the time left until ``priced_until``: it buys the higher tier for
    that period only. Once the period moved (a renewal was paid), the price no longer fits."""
    try:
        priced_until = datetime.fromisoformat(str(order.details["priced_until"]))
    except (KeyError, ValueError):
        return f"upgrade order {order.order_code} does not say which period it was priced for"
    if priced_until == period_end:
        return None
    priced, now_ends = (f"{moment.astimezone(UTC):%Y-%m-%d %H:%M} UTC" for moment in (priced_until, period_end))
    return (
        f"upgrade order {order.order_code} was priced for the period ending {priced}, but the period now ends "
        f"{now_ends}: ask for a new upgrade"
    )


def payment_change(subscription: Subscription, order: PaymentOrder, now: datetime) -> Change:
    """What a paid order does to the subscription (checked by ``why_not_applicable`` first)."""
    if order.kind is PaymentOrderKind.UPGRADE:
        return Change(event="upgraded", reason=f"upgrade to {order.tier_code} paid",
                      fields={"tier_code": order.tier_code, "scheduled_tier_code": None})  # fmt: skip
    assert order.months is not None
    if subscription.status is S.ACTIVE:
        assert subscription.current_period_end is not None
        start = max(now, subscription.current_period_end)
        return Change(event="renewed", reason=f"{order.months} month(s) paid",
                      details={"extended_from": start.isoformat()},
                      fields={"current_period_end": add_months(start, order.months)})  # fmt: skip
    return Change(
        event="activated" if subscription.status is S.TRIAL else "reactivated",
        to_status=S.ACTIVE,
        reason=f"{order.months} month(s) on {order.tier_code} paid",
        fields={
            "tier_code": order.tier_code,
            "current_period_start": now,
            "current_period_end": add_months(now, order.months),
            "grace_until": None,
            "cancel_at_period_end": False,
            "scheduled_tier_code": None,
        },
    )


async def applicable_subscription(session: AsyncSession, order: PaymentOrder, now: datetime) -> Subscription:
    """The subscription, locked, once ``order`` is known to fit it (else nothing was changed)."""
    subscription = await subscription_of(session, order.instance_id, for_update=True)
    problem = why_not_applicable(subscription, order, now)
    if problem is not None:
        raise PaymentNotApplicableError(problem, extra={"order_code": order.order_code})
    return subscription


async def apply_paid_order(
    session: AsyncSession,
    order: PaymentOrder,
    subscription: Subscription,
    *,
    actor_id: uuid.UUID | None,
    now: datetime,
) -> Subscription:
    """Turn a paid SUBSCRIPTION order into subscription time or tier, in the caller's transaction.

    ``subscription`` comes from ``applicable_subscription`` (locked, checked against the order).
    """
    tier_before = subscription.tier_code
    await write_change(session, subscription, payment_change(subscription, order, now), actor_id=actor_id,
                       payment_order_id=order.id)  # fmt: skip
    if subscription.tier_code != tier_before:
        await schedule_config_push(session, [subscription.instance_id])
    return subscription


async def cancel_at_period_end(
    session: AsyncSession, actor: AuditActor, subscription: Subscription, *, reason: str | None
) -> Subscription:
    if subscription.status is not S.ACTIVE:
        raise ConflictError(
            f"only a paid (ACTIVE) subscription can be cancelled; this one is {subscription.status.value}",
            extra={"subscription_status": subscription.status.value},
        )
    if not subscription.cancel_at_period_end:
        change(session, subscription, event="cancel_requested", actor_id=actor.account_id, cancel_at_period_end=True,
               reason=reason or "cancel at period end")  # fmt: skip
        await session.flush()
        await record(session, actor, "subscription.cancel", "subscription", subscription.id, after={"reason": reason})
    return subscription


async def resume(session: AsyncSession, actor: AuditActor, subscription: Subscription) -> Subscription:
    if subscription.status is not S.ACTIVE:
        raise ConflictError(
            f"the period has ended ({subscription.status.value}); pay for a new one instead of resuming",
            extra={"subscription_status": subscription.status.value},
        )
    if subscription.cancel_at_period_end:
        change(session, subscription, event="cancel_withdrawn", actor_id=actor.account_id, cancel_at_period_end=False,
               reason="resumed before the period ended")  # fmt: skip
        await session.flush()
        await record(session, actor, "subscription.resume", "subscription", subscription.id)
    return subscription


def period_end_event(subscription: Subscription) -> str:
    return "canceled" if subscription.cancel_at_period_end else "period_ended"
