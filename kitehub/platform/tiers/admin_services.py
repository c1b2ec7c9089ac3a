"""Admins pricing and shaping tiers. A new feature set or limit reaches every instance on the
tier at once: the platform reads the tier row directly (quota checks), and a push job per
instance, committed with the change, rewrites each tenant's ``instance_config``."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from kitehub.errors import NotFoundError
from kitehub.platform.audit.services import AuditActor, record
from kitehub.platform.instances.models import Instance, InstanceStatus
from kitehub.platform.subscriptions.config_push import schedule_config_push
from kitehub.platform.subscriptions.models import Subscription
from kitehub.platform.tiers.models import Tier
from kitehub.platform.tiers.schemas import UpdateTierRequest


def tier_snapshot(tier: Tier) -> dict[str, Any]:
    return {
        "name": tier.name,
        "monthly_price": tier.monthly_price,
        "features": dict(tier.features),
        "limitations": dict(tier.limitations),
        "storage_limit_bytes": tier.storage_limit_bytes,
    }


async def update_tier(session: AsyncSession, actor: AuditActor, code: str, body: UpdateTierRequest) -> tuple[Tier, int]:
    """Replace the tier's price, features, limits and storage; returns it and the instances told."""
    tier = await session.get(Tier, code.strip().upper(), with_for_update=True, populate_existing=True)
    if tier is None:
        raise NotFoundError(f"no tier {code!r}")
    before = tier_snapshot(tier)
    tier.monthly_price = body.monthly_price
    tier.features = body.features.model_dump()
    tier.limitations = body.limitations.model_dump()
    tier.storage_limit_bytes = body.storage_limit_bytes
    if body.name is not None:
        tier.name = body.name.strip()
    after = tier_snapshot(tier)
    if after == before:
        return tier, 0
    await session.flush()
    instance_ids = list(
        await session.scalars(
            select(Instance.id)
            .join(Subscription, Subscription.instance_id == Instance.id)
            .where(
                Subscription.tier_code == tier.code,
                Instance.status.not_in([InstanceStatus.DELETED, InstanceStatus.PURGED]),
            )
        )
    )
    pushed = await schedule_config_push(session, instance_ids)
    await record(session, actor, "tier.update", "tier", tier.code, before=before, after=after)
    return tier, pushed
