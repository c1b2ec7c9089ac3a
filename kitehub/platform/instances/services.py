"""Creating instances: the instance row, its trial subscription and its storage account, at once."""

from __future__ import annotations

import re
import uuid
from datetime import UTC, datetime, timedelta

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from kitehub.errors import ConflictError, InvalidInputError, NotFoundError
from kitehub.platform.instances.lifecycle import record_creation
from kitehub.platform.instances.models import RESERVED_SUBDOMAINS, SUBDOMAIN_PATTERN, Instance, InstanceStatus
from kitehub.platform.storage.models import StorageUsage
from kitehub.platform.subscriptions.models import Subscription, SubscriptionHistory, SubscriptionStatus
from kitehub.platform.tiers.models import Tier

_SUBDOMAIN = re.compile(SUBDOMAIN_PATTERN)


def validate_subdomain(subdomain: str) -> str:
    if not _SUBDOMAIN.match(subdomain):
        raise InvalidInputError(
            "a subdomain is 3-50 characters of a-z, 0-9 and '-', not starting or ending with '-'",
            extra={"errors": [{"field": "subdomain", "message": "invalid format", "source": "body"}]},
        )
    if subdomain in RESERVED_SUBDOMAINS:
        raise InvalidInputError(
            f"the subdomain {subdomain!r} is reserved",
            extra={"errors": [{"field": "subdomain", "message": "reserved", "source": "body"}]},
        )
    return subdomain


async def create_instance(
    session: AsyncSession,
    *,
    owner_id: uuid.UUID,
    subdomain: str,
    organization_name: str,
    tier_code: str,
    trial_days: int,
    actor_id: uuid.UUID | None = None,
) -> Instance:
    """A PROVISIONING instance with a TRIAL subscription; its database is the provisioner's job."""
    validate_subdomain(subdomain)
    tier = await session.get(Tier, tier_code)
    if tier is None:
        raise NotFoundError(f"no tier {tier_code!r}")
    if await session.scalar(select(Instance.id).where(Instance.subdomain == subdomain, Instance.deleted_at.is_(None))):
        raise ConflictError(f"the subdomain {subdomain!r} is taken", extra={"field": "subdomain"})
    now = datetime.now(UTC)
    instance = Instance(
        id=uuid.uuid4(),
        subdomain=subdomain,
        organization_name=organization_name,
        owner_id=owner_id,
        status=InstanceStatus.PROVISIONING,
    )
    subscription = Subscription(
        id=uuid.uuid4(),
        instance_id=instance.id,
        tier_code=tier.code,
        status=SubscriptionStatus.TRIAL,
        trial_end=now + timedelta(days=trial_days),
    )
    session.add(instance)
    await session.flush()  # the instance row first: the others reference it
    session.add_all([subscription, StorageUsage(instance_id=instance.id)])
    await session.flush()
    session.add(
        SubscriptionHistory(
            subscription_id=subscription.id,
            event="created",
            from_status=None,
            to_status=SubscriptionStatus.TRIAL,
            to_tier_code=tier.code,
            actor_id=actor_id,
            reason=f"{trial_days}-day trial",
        )
    )
    record_creation(session, instance, actor_id=actor_id)
    try:
        await session.flush()
    except IntegrityError as exc:  # a concurrent create took the subdomain between check and insert
        raise ConflictError(f"the subdomain {subdomain!r} is taken", extra={"field": "subdomain"}) from exc
    return instance
