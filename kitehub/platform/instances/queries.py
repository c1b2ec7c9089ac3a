"""Finding instances: by what an operator types, by owner, and filtered pages for admins."""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from kitehub.errors import NotFoundError
from kitehub.platform.instances.models import Instance, InstanceStatus
from kitehub.platform.subscriptions.models import Subscription


async def find_instance(session: AsyncSession, reference: str) -> Instance:
    """By id, or by subdomain (the live instance, else the most recent deleted one)."""
    try:
        instance = await session.get(Instance, uuid.UUID(reference))
    except ValueError:
        instance = await session.scalar(
            select(Instance)
            .where(Instance.subdomain == reference.strip().lower())
            .order_by(Instance.deleted_at.is_(None).desc(), Instance.created_at.desc())
            .limit(1)
        )
    if instance is None:
        raise NotFoundError(f"no instance {reference!r}")
    return instance


async def list_instances(session: AsyncSession, *, include_purged: bool = False) -> list[Instance]:
    query = select(Instance).order_by(Instance.created_at)
    if not include_purged:
        query = query.where(Instance.status != InstanceStatus.PURGED)
    return list(await session.scalars(query))


async def owned_instance(
    session: AsyncSession, owner_id: uuid.UUID, instance_id: uuid.UUID, *, for_update: bool = False
) -> Instance:
    """The owner's live instance; anyone else's, or a deleted one, does not exist (404).

    ``for_update`` locks the row for the rest of the transaction: a change then works on the
    current state and concurrent changes wait instead of colliding.
    """
    instance = await session.get(Instance, instance_id, with_for_update=for_update, populate_existing=for_update)
    if instance is None or instance.owner_id != owner_id or instance.deleted_at is not None:
        raise NotFoundError("no such instance")
    return instance


async def any_instance(session: AsyncSession, instance_id: uuid.UUID, *, for_update: bool = False) -> Instance:
    instance = await session.get(Instance, instance_id, with_for_update=for_update, populate_existing=for_update)
    if instance is None:
        raise NotFoundError("no such instance")
    return instance


@dataclass(frozen=True, slots=True)
class InstanceFilter:
    owner_id: uuid.UUID | None = None
    status: InstanceStatus | None = None
    tier: str | None = None
    subdomain: str | None = None
    include_deleted: bool = False


async def page_of_instances(
    session: AsyncSession, where: InstanceFilter, *, limit: int, offset: int
) -> tuple[list[Instance], int]:
    query = select(Instance)
    if where.owner_id is not None:
        query = query.where(Instance.owner_id == where.owner_id)
    if where.status is not None:
        query = query.where(Instance.status == where.status)
    elif not where.include_deleted:
        query = query.where(Instance.deleted_at.is_(None))
    if where.subdomain:
        query = query.where(Instance.subdomain.contains(where.subdomain.lower(), autoescape=True))
    if where.tier:
        query = query.join(Subscription, Subscription.instance_id == Instance.id).where(
            Subscription.tier_code == where.tier.upper()
        )
    total = await session.scalar(select(func.count()).select_from(query.subquery()))
    rows = await session.scalars(query.order_by(Instance.created_at.desc(), Instance.id).limit(limit).offset(offset))
    return list(rows), int(total or 0)
