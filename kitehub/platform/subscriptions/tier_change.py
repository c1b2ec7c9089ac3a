"""Changing tier: free during a trial, paid (prorated) upwards, scheduled downwards.

An upgrade becomes a payment order for the price difference over the time left in the period; it
applies the moment that order is paid, if the period is still the one it was priced for
(``priced_until``). A downgrade applies at period end, and only when the
school's usage fits the smaller tier: refused with each exceeded limit otherwise.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from kitehub.errors import ConflictError
from kitehub.platform.audit.services import AuditActor, record
from kitehub.platform.instances.models import Instance
from kitehub.platform.payments.models import PaymentOrder, PaymentOrderKind, PaymentOrderType
from kitehub.platform.payments.orders import create_order, order_expiry, platform_account
from kitehub.platform.payments.subscription_orders import offered_tier, refuse_if_usage_exceeds
from kitehub.platform.subscriptions.config_push import schedule_config_push
from kitehub.platform.subscriptions.lifecycle import change
from kitehub.platform.subscriptions.models import Subscription, SubscriptionStatus
from kitehub.platform.subscriptions.services import prorated_upgrade_amount, subscription_of
from kitehub.platform.subscriptions.usage import UsageReader
from kitehub.platform.tiers.models import Tier
from kitehub.settings import Settings

S = SubscriptionStatus


@dataclass(frozen=True, slots=True)
class TierChange:
    outcome: str  # payment_required | scheduled | changed | unscheduled | unchanged
    subscription: Subscription
    order: PaymentOrder | None = None


async def change_tier(
    session: AsyncSession,
    actor: AuditActor,
    instance: Instance,
    tier_code: str,
    *,
    usage: UsageReader,
    settings: Settings,
    now: datetime,
) -> TierChange:
    subscription = await subscription_of(session, instance.id, for_update=True)
    target = await offered_tier(session, tier_code)
    current = await session.get(Tier, subscription.tier_code)
    assert current is not None
    if target.code == current.code:
        return await _withdraw_scheduled(session, actor, subscription)
    upgrade = target.monthly_price > current.monthly_price
    if subscription.status is S.TRIAL:
        if not upgrade:
            await refuse_if_usage_exceeds(target, usage)
        change(session, subscription, event="tier_changed", actor_id=actor.account_id, tier_code=target.code,
               reason=f"trial moved to {target.code}")  # fmt: skip
        await session.flush()
        await schedule_config_push(session, [instance.id])
        await _audit(session, actor, subscription, current.code, target.code, "changed")
        return TierChange("changed", subscription)
    if subscription.status is not S.ACTIVE:
        raise ConflictError(
            f"the subscription is {subscription.status.value}: buy a period on {target.code} with "
            "POST /api/v1/payment-orders instead",
            extra={"subscription_status": subscription.status.value},
        )
    if upgrade:
        order = await _upgrade_order(session, actor, instance, subscription, current, target, settings, now)
        await _audit(session, actor, subscription, current.code, target.code, "payment_required")
        return TierChange("payment_required", subscription, order)
    await refuse_if_usage_exceeds(target, usage)
    change(session, subscription, event="downgrade_scheduled", actor_id=actor.account_id,
           scheduled_tier_code=target.code, reason=f"to {target.code} at period end")  # fmt: skip
    await session.flush()
    await _audit(session, actor, subscription, current.code, target.code, "scheduled")
    return TierChange("scheduled", subscription)


async def _withdraw_scheduled(session: AsyncSession, actor: AuditActor, subscription: Subscription) -> TierChange:
    if subscription.scheduled_tier_code is None:
        return TierChange("unchanged", subscription)
    scheduled = subscription.scheduled_tier_code
    change(session, subscription, event="downgrade_withdrawn", actor_id=actor.account_id, scheduled_tier_code=None,
           reason=f"the change to {scheduled} was withdrawn")  # fmt: skip
    await session.flush()
    await _audit(session, actor, subscription, scheduled, subscription.tier_code, "unscheduled")
    return TierChange("unscheduled", subscription)


async def _upgrade_order(
    session: AsyncSession,
    actor: AuditActor,
    instance: Instance,
    subscription: Subscription,
    current: Tier,
    target: Tier,
    settings: Settings,
    now: datetime,
) -> PaymentOrder:
    assert subscription.current_period_end is not None
    amount = prorated_upgrade_amount(current.monthly_price, target.monthly_price, now=now,
                                     period_end=subscription.current_period_end)  # fmt: skip
    order = await create_order(
        session,
        instance=instance,
        order_type=PaymentOrderType.SUBSCRIPTION,
        kind=PaymentOrderKind.UPGRADE,
        amount=amount,
        account=platform_account(settings),
        # an upgrade priced for the time left cannot be paid after that time is gone
        expires_at=min(order_expiry(now, settings.payment_order_ttl_hours), subscription.current_period_end),
        created_by=actor.account_id,
        tier_code=target.code,
        details={
            "kind": "upgrade",
            "from_tier": current.code,
            "priced_at": now.isoformat(),
            "priced_until": subscription.current_period_end.isoformat(),
        },
    )
    await session.flush()
    await session.refresh(order)
    return order


async def _audit(
    session: AsyncSession, actor: AuditActor, subscription: Subscription, before: str, after: str, outcome: str
) -> None:
    await record(session, actor, "subscription.change_tier", "subscription", subscription.id,
                 before={"tier": before}, after={"tier": after, "outcome": outcome})  # fmt: skip
