"""``GET /api/v1/tiers``: what an instance can be, and what it costs (public)."""

from __future__ import annotations

from litestar import Controller, get
from litestar.di import NamedDependency
from sqlalchemy.ext.asyncio import AsyncSession

from kitehub.platform.tiers.schemas import TierResponse
from kitehub.platform.tiers.services import public_tiers


class TierController(Controller):
    path = "/api/v1/tiers"
    tags = ["tiers"]  # noqa: RUF012 - Litestar declares it as an instance attribute

    @get(summary="The tiers an instance can be on, with price (VND per month), features and limits")
    async def tiers(self, platform_session: NamedDependency[AsyncSession]) -> list[TierResponse]:
        return [
            TierResponse.model_validate(tier, from_attributes=True) for tier in await public_tiers(platform_session)
        ]
