"""Tier limits inside a tenant database (``instance_config``, pushed from the platform)."""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import InstrumentedAttribute

from kitehub.errors import ConflictError, ServiceUnavailableError
from kitehub.tenant.config.models import InstanceConfig


class LimitReachedError(ConflictError):
    slug, title = "tier-limit-reached", "The tier's limit is reached"


async def locked_config(session: AsyncSession) -> InstanceConfig:
    """The config row, locked: creates that count against one limit queue here, so two
    concurrent creates at the limit cannot both pass."""
    config = await session.scalar(select(InstanceConfig).with_for_update())
    if config is None:
        raise ServiceUnavailableError("the tenant database has no instance_config yet")
    return config


async def check_limit(session: AsyncSession, limit: str, live_rows: InstrumentedAttribute[object]) -> None:
    """Refuse one more row of the counted kind when ``limit`` (null = unlimited) is reached."""
    config = await locked_config(session)
    allowed = config.limitations.get(limit)
    if allowed is None:
        return
    table = live_rows.class_
    current = await session.scalar(select(func.count()).select_from(table).where(live_rows.is_(None)))
    if int(current or 0) >= int(allowed):
        raise LimitReachedError(
            f"the {config.tier_code} tier allows {allowed} ({limit}); upgrade to add more",
            extra={"limit": limit, "allowed": int(allowed), "current": int(current or 0), "tier": config.tier_code},
        )
