"""What a tenant database says about itself."""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from kitehub.errors import ServiceUnavailableError
from kitehub.migrate import current_revision
from kitehub.tenant.config.models import InstanceConfig


@dataclass(frozen=True, slots=True)
class TenantHealth:
    instance: uuid.UUID
    subdomain: str
    schema_revision: str | None


async def tenant_health(session: AsyncSession) -> TenantHealth:
    config = await session.scalar(select(InstanceConfig))
    if config is None:
        raise ServiceUnavailableError("the tenant database has no instance_config yet")
    revision = await current_revision(await session.connection())
    return TenantHealth(instance=config.instance_id, subdomain=config.subdomain, schema_revision=revision)
