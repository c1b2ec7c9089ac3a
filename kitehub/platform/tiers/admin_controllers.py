"""``PUT /api/v1/admin/tiers/{code}``: admins set a tier's price, features, limits and storage."""

from __future__ import annotations

from litestar import Controller, put
from litestar.di import NamedDependency
from litestar.params import FromPath, JSONBody
from sqlalchemy.ext.asyncio import AsyncSession

from kitehub.platform.accounts.models import Account
from kitehub.platform.audit.services import AuditActor
from kitehub.platform.tiers.admin_services import update_tier
from kitehub.platform.tiers.schemas import TierResponse, UpdateTierRequest, UpdateTierResponse


class TierAdminController(Controller):
    path = "/api/v1/admin/tiers"
    tags = ["admin"]  # noqa: RUF012 - Litestar declares it as an instance attribute

    @put("/{code:str}", summary="Replace a tier's price, features, limits and storage (applies at once)")
    async def replace(
        self,
        code: FromPath[str],
        data: JSONBody[UpdateTierRequest],
        current_admin: NamedDependency[Account],
        audit_actor: NamedDependency[AuditActor],
        platform_session: NamedDependency[AsyncSession],
    ) -> UpdateTierResponse:
        tier, told = await update_tier(platform_session, audit_actor.as_account(current_admin), code, data)
        view = TierResponse.model_validate(tier, from_attributes=True)
        return UpdateTierResponse(**view.model_dump(), instances_updating=told)
