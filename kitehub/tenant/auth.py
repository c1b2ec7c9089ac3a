"""Who may use a tenant route: for now, the instance's owner with a platform token.

Platform admins steer tenants but do not read their data: their tokens are refused here. Tenant
users (staff, teachers) with instance-bound tokens come with the tenant API.
"""

from __future__ import annotations

from typing import Any

from litestar import Request
from litestar.datastructures import State
from litestar.di import NamedDependency
from sqlalchemy.ext.asyncio import AsyncSession

from kitehub.errors import PermissionDeniedError
from kitehub.platform.accounts.dependencies import account_for_token, bearer_token
from kitehub.platform.accounts.models import Account, AccountRole
from kitehub.provisioning.resolution import ResolvedTenant


async def provide_tenant_caller(
    request: Request[Any, Any, Any],
    tenant: NamedDependency[ResolvedTenant],
    platform_session: NamedDependency[AsyncSession],
    state: State,
) -> Account:
    account = await account_for_token(platform_session, state.settings, bearer_token(request))
    if account.role is AccountRole.ADMIN:
        raise PermissionDeniedError("platform admins manage instances but do not read their data")
    if account.id != tenant.owner_id:
        raise PermissionDeniedError("this token is not valid for this instance")
    return account
