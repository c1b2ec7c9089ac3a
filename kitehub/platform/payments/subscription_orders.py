"""Owners buying subscription months: which orders make sense for the subscription as it is.

While a paid period runs, months are bought on the current tier (a renewal); another tier goes
through change-tier, so nobody pays twice for overlapping time. Otherwise (trial, past due,
expired, cancelled) any tier can be bought and its period starts when the money arrives; buying a
smaller tier than the current one is refused while the school's usage does not fit in it.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

from sqlalchemy.ext.asyncio import AsyncSession

from kitehub.errors import ConflictError, InvalidInputError
from kitehub.platform.audit.services import AuditActor, record
from kitehub.platform.idempotency.services import StoredAnswer, check_key, fingerprint, remember, replay
from kitehub.platform.instances.queries import owned_instance
from kitehub.platform.payments.models import PaymentOrderKind, PaymentOrderType
from kitehub.platform.payments.orders import create_order, order_expiry, order_view, platform_account
from kitehub.platform.payments.schemas import CreatePaymentOrderRequest
from kitehub.platform.subscriptions.models import SubscriptionStatus
from kitehub.platform.subscriptions.services import subscription_of
from kitehub.platform.subscriptions.usage import UsageReader, exceeded_limits
from kitehub.platform.tiers.models import Tier
from kitehub.settings import Settings

SCOPE = "payment-orders.create"


class LimitsExceededError(ConflictError):
    slug, title = "usage-exceeds-tier", "The school uses more than that tier allows"


async def offered_tier(session: AsyncSession, code: str) -> Tier:
    tier = await session.get(Tier, code.strip().upper())
    if tier is None or not tier.is_public:
        raise InvalidInputError(
            f"no tier {code!r}; choose one of GET /api/v1/tiers",
            extra={"errors": [{"field": "tier", "message": "unknown tier", "source": "body"}]},
        )
    return tier


async def refuse_if_usage_exceeds(tier: Tier, usage: UsageReader) -> None:
    exceeded = exceeded_limits(await usage(), tier)
    if exceeded:
        listed = ", ".join(f"{item['limit']} {item['current']} > {item['allowed']}" for item in exceeded)
        raise LimitsExceededError(f"the school does not fit in {tier.code}: {listed}", extra={"exceeded": exceeded})


async def request_subscription_order(
    session: AsyncSession,
    actor: AuditActor,
    *,
    account_id: uuid.UUID,
    body: CreatePaymentOrderRequest,
    idempotency_key: str | None,
    settings: Settings,
    usage: UsageReader,
) -> StoredAnswer:
    key = check_key(idempotency_key)
    request_fingerprint = fingerprint(body.model_dump(mode="json"))
    if key is not None and (stored := await replay(session, account_id, SCOPE, key, request_fingerprint)):
        return stored
    instance = await owned_instance(session, account_id, body.instance_id)
    account = platform_account(settings)
    tier = await offered_tier(session, body.tier)
    if tier.monthly_price <= 0:
        raise InvalidInputError(f"{tier.code} is free: there is nothing to pay")
    subscription = await subscription_of(session, instance.id, for_update=True)
    if subscription.status is SubscriptionStatus.ACTIVE:
        if tier.code != subscription.tier_code:
            raise ConflictError(
                f"the subscription is ACTIVE on {subscription.tier_code}: renew on it, or use "
                f"POST /api/v1/instances/{instance.id}/subscription/change-tier",
                extra={"tier": subscription.tier_code},
            )
        if subscription.scheduled_tier_code is not None:
            raise ConflictError(
                f"a change to {subscription.scheduled_tier_code} is scheduled at period end; renew after it "
                "applies, or withdraw it by changing tier to the current one",
                extra={"scheduled_tier": subscription.scheduled_tier_code},
            )
    else:
        current = await session.get(Tier, subscription.tier_code)
        if current is not None and tier.code != current.code and tier.monthly_price < current.monthly_price:
            await refuse_if_usage_exceeds(tier, usage)
    now = datetime.now(UTC)
    order = await create_order(
        session,
        instance=instance,
        order_type=PaymentOrderType.SUBSCRIPTION,
        kind=PaymentOrderKind.PERIOD,
        amount=tier.monthly_price * body.months,
        account=account,
        expires_at=order_expiry(now, settings.payment_order_ttl_hours),
        created_by=account_id,
        tier_code=tier.code,
        months=body.months,
    )
    if key is not None:
        order.idempotency_key, order.request_fingerprint = key, request_fingerprint
    await session.flush()
    await session.refresh(order)
    await record(session, actor, "payment_order.create", "payment_order", order.id,
                 after={"order_code": order.order_code, "amount": order.amount, "tier": tier.code,
                        "months": body.months})  # fmt: skip
    answer = StoredAnswer(
        201, order_view(order).model_dump(mode="json"), {"Location": f"/api/v1/payment-orders/{order.order_code}"}
    )
    if key is not None:
        await remember(session, account_id, SCOPE, key, request_fingerprint, answer)
    return answer
