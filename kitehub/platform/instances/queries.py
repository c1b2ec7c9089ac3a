"""Finding instances by what an operator types: an id or a subdomain."""

from __future__ import annotations

import uuid

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from kitehub.errors import NotFoundError
from kitehub.platform.instances.models import Instance


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
        query = query.where(Instance.status != "PURGED")
    return list(await session.scalars(query))
