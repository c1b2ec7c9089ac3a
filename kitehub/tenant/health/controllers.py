"""``GET /tenant/v1/health``: proof that the request reached this tenant's own database."""

from __future__ import annotations

from litestar import Controller, get
from litestar.di import NamedDependency
from sqlalchemy.ext.asyncio import AsyncSession

from kitehub.tenant.health.services import TenantHealth, tenant_health


class TenantHealthController(Controller):
    path = "/health"
    tags = ["tenant"]  # noqa: RUF012 - Litestar declares it as an instance attribute

    @get(summary="The tenant database answers: its instance, subdomain and schema revision")
    async def health(self, tenant_session: NamedDependency[AsyncSession]) -> TenantHealth:
        return await tenant_health(tenant_session)
