"""Tiers offered to owners."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from kitehub.platform.tiers.models import Tier


async def public_tiers(session: AsyncSession) -> list[Tier]:
    return list(await session.scalars(select(Tier).where(Tier.is_public).order_by(Tier.sort_order, Tier.code)))
