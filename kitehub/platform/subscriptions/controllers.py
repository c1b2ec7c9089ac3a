"""``/api/v1/instances/{id}/subscription``: an owner's billing state and what they may change."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

from litestar import Controller, get, post
from litestar.datastructures import State
from litestar.di import NamedDependency
from litestar.params import FromPath, JSONBody
from sqlalchemy.ext.asyncio import AsyncSession

from kitehub.platform.accounts.models import Account
from kitehub.platform.audit.services import AuditActor
from kitehub.platform.instances.queries import owned_instance
from kitehub.platform.payments.orders import order_view
from kitehub.platform.payments.schemas import AdminNoteRequest
from kitehub.platform.subscriptions.dependencies import usage_reader
from kitehub.platform.subscriptions.schemas import ChangeTierRequest, SubscriptionResponse, TierChangeResponse
from kitehub.platform.subscriptions.services import cancel_at_period_end, resume, subscription_of, subscription_view
from kitehub.platform.subscriptions.tier_change import change_tier
from kitehub.provisioning.router import TenantRouter


class SubscriptionController(Controller):
    path = "/api/v1/instances/{instance_id:uuid}/subscription"
    tags = ["subscriptions"]  # noqa: RUF012 - Litestar declares it as an instance attribute

    @get(summary="The instance's subscription: status, tier, period, trial, scheduled changes")
    async def show(
        self,
        instance_id: FromPath[uuid.UUID],
        current_account: NamedDependency[Account],
        platform_session: NamedDependency[AsyncSession],
    ) -> SubscriptionResponse:
        instance = await owned_instance(platform_session, current_account.id, instance_id)
        return subscription_view(await subscription_of(platform_session, instance.id))

    @post("/change-tier", status_code=200, summary="Upgrade (returns the prorated order) or schedule a downgrade")
    async def change_tier(
        self,
        instance_id: FromPath[uuid.UUID],
        data: JSONBody[ChangeTierRequest],
        current_account: NamedDependency[Account],
        audit_actor: NamedDependency[AuditActor],
        platform_session: NamedDependency[AsyncSession],
        tenant_router: NamedDependency[TenantRouter],
        state: State,
    ) -> TierChangeResponse:
        instance = await owned_instance(platform_session, current_account.id, instance_id)
        result = await change_tier(
            platform_session,
            audit_actor.as_account(current_account),
            instance,
            data.tier,
            usage=usage_reader(tenant_router, platform_session, instance.id),
            settings=state.settings,
            now=datetime.now(UTC),
        )
        return TierChangeResponse(
            outcome=result.outcome,
            subscription=subscription_view(result.subscription),
            payment_order=order_view(result.order) if result.order is not None else None,
        )

    @post("/cancel", status_code=200, summary="Cancel at period end (undo with /resume until then)")
    async def cancel(
        self,
        instance_id: FromPath[uuid.UUID],
        current_account: NamedDependency[Account],
        audit_actor: NamedDependency[AuditActor],
        platform_session: NamedDependency[AsyncSession],
        data: JSONBody[AdminNoteRequest | None] = None,
    ) -> SubscriptionResponse:
        instance = await owned_instance(platform_session, current_account.id, instance_id)
        subscription = await subscription_of(platform_session, instance.id, for_update=True)
        await cancel_at_period_end(platform_session, audit_actor.as_account(current_account), subscription,
                                   reason=data.reason if data is not None else None)  # fmt: skip
        return subscription_view(subscription)

    @post("/resume", status_code=200, summary="Withdraw a cancellation before the period ends")
    async def resume(
        self,
        instance_id: FromPath[uuid.UUID],
        current_account: NamedDependency[Account],
        audit_actor: NamedDependency[AuditActor],
        platform_session: NamedDependency[AsyncSession],
    ) -> SubscriptionResponse:
        instance = await owned_instance(platform_session, current_account.id, instance_id)
        subscription = await subscription_of(platform_session, instance.id, for_update=True)
        await resume(platform_session, audit_actor.as_account(current_account), subscription)
        return subscription_view(subscription)
