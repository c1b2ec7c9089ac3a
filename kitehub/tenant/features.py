"""Features of the tier (``instance_config.features``): a route of a missing feature is 403."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from kitehub.errors import PermissionDeniedError, ServiceUnavailableError
from kitehub.tenant.config.models import InstanceConfig


class FeatureNotInTierError(PermissionDeniedError):
    slug, title = "feature-not-in-tier", "The tier does not include this feature"


async def require_feature(session: AsyncSession, feature: str) -> InstanceConfig:
    config: InstanceConfig | None = await session.scalar(select(InstanceConfig))
    if config is None:
        raise ServiceUnavailableError("the tenant database has no instance_config yet")
    if not config.features.get(feature):
        raise FeatureNotInTierError(
            f"the {config.tier_code} tier does not include {feature!r}; upgrade to use it",
            extra={"feature": feature, "tier": config.tier_code},
        )
    return config
