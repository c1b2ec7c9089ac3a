"""``/tenant/v1/audit-log``: the school's admins read who changed its staff accounts."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated

from litestar import Controller, get
from litestar.di import NamedDependency
from litestar.params import FromQuery, QueryParameter
from sqlalchemy.ext.asyncio import AsyncSession

from kitehub.pagination import Limit, Offset
from kitehub.tenant.audit.schemas import TenantAuditEntryResponse, TenantAuditPage
from kitehub.tenant.audit.services import TenantAuditQuery, page_of_audit
from kitehub.tenant.auth import TenantCaller
from kitehub.tenant.users.models import TenantRole


class TenantAuditController(Controller):
    path = "/audit-log"
    tags = ["tenant"]  # noqa: RUF012 - Litestar declares it as an instance attribute

    @get(summary="Changes to staff accounts, newest first (tenant admins)")
    async def list_all(
        self,
        tenant_caller: NamedDependency[TenantCaller],
        tenant_session: NamedDependency[AsyncSession],
        action: Annotated[str | None, QueryParameter(max_length=100, description="e.g. user.role_change")] = None,
        actor: Annotated[uuid.UUID | None, QueryParameter(description="a staff id or the owner's account id")] = None,
        target: Annotated[uuid.UUID | None, QueryParameter(description="the staff member changed")] = None,
        since: FromQuery[datetime | None] = None,
        until: FromQuery[datetime | None] = None,
        limit: Limit = 50,
        offset: Offset = 0,
    ) -> TenantAuditPage:
        tenant_caller.require(TenantRole.ADMIN)
        query = TenantAuditQuery(action=action, actor=actor, target=target, since=since, until=until)
        rows, total = await page_of_audit(tenant_session, query, limit=limit, offset=offset)
        items = [TenantAuditEntryResponse.model_validate(row, from_attributes=True) for row in rows]
        return TenantAuditPage(items=items, total=total, limit=limit, offset=offset)
