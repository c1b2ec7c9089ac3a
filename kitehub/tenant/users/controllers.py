"""``/tenant/v1/users`` (tenant admins manage staff) and ``/tenant/v1/auth/login``."""

from __future__ import annotations

import uuid
from typing import Annotated

from litestar import Controller, delete, get, patch, post
from litestar.datastructures import State
from litestar.di import NamedDependency
from litestar.params import FromPath, FromQuery, JSONBody, QueryParameter
from sqlalchemy.ext.asyncio import AsyncSession

from kitehub.auth_limits import auth_limited
from kitehub.openapi_problems import problems
from kitehub.pagination import Limit, Offset
from kitehub.provisioning.resolution import ResolvedTenant
from kitehub.tenant.audit.services import TenantActor
from kitehub.tenant.auth import TenantCaller
from kitehub.tenant.users.models import TenantRole, TenantUser
from kitehub.tenant.users.schemas import (
    CreateUserRequest,
    TenantLoginRequest,
    TenantTokenResponse,
    UpdateUserRequest,
    UserPage,
    UserResponse,
)
from kitehub.tenant.users.services import (
    authenticate,
    create_user,
    delete_user,
    live_user,
    page_of_users,
    update_user,
)
from kitehub.tenant.users.tokens import issue_tenant_token

ADMIN = TenantRole.ADMIN


def _view(user: TenantUser) -> UserResponse:
    return UserResponse.model_validate(user, from_attributes=True)


class UserController(Controller):
    path = "/users"
    tags = ["tenant"]  # noqa: RUF012 - Litestar declares it as an instance attribute

    @post(summary="Add a staff member (tenant admins)", status_code=201, middleware=[auth_limited])
    async def create(
        self,
        data: JSONBody[CreateUserRequest],
        tenant_caller: NamedDependency[TenantCaller],
        tenant_actor: NamedDependency[TenantActor],
        tenant_session: NamedDependency[AsyncSession],
    ) -> UserResponse:
        tenant_caller.require(ADMIN)
        return _view(await create_user(tenant_session, data, tenant_actor))

    @get(summary="The school's staff")
    async def list_all(
        self,
        tenant_caller: NamedDependency[TenantCaller],
        tenant_session: NamedDependency[AsyncSession],
        role: FromQuery[TenantRole | None] = None,
        q: Annotated[str | None, QueryParameter(max_length=100, description="name or e-mail contains")] = None,
        sort: Annotated[str | None, QueryParameter(max_length=20, description="email, full_name, created_at")] = None,
        limit: Limit = 50,
        offset: Offset = 0,
    ) -> UserPage:
        tenant_caller.require(ADMIN)
        rows, total = await page_of_users(tenant_session, role=role, search=q, sort=sort, limit=limit, offset=offset)
        return UserPage(items=[_view(row) for row in rows], total=total, limit=limit, offset=offset)

    @get("/{user_id:uuid}", summary="One staff member")
    async def get_one(
        self,
        user_id: FromPath[uuid.UUID],
        tenant_caller: NamedDependency[TenantCaller],
        tenant_session: NamedDependency[AsyncSession],
    ) -> UserResponse:
        if tenant_caller.user_id != user_id:  # everyone may read their own record
            tenant_caller.require(ADMIN)
        return _view(await live_user(tenant_session, user_id))

    @patch(
        "/{user_id:uuid}",
        summary="Rename, change role, (de)activate or set a new password (audited; "
        "a new role, password or deactivation revokes the user's tokens)",
        middleware=[auth_limited],
    )
    async def update(
        self,
        user_id: FromPath[uuid.UUID],
        data: JSONBody[UpdateUserRequest],
        tenant_caller: NamedDependency[TenantCaller],
        tenant_actor: NamedDependency[TenantActor],
        tenant_session: NamedDependency[AsyncSession],
    ) -> UserResponse:
        tenant_caller.require(ADMIN)
        user = await live_user(tenant_session, user_id, for_update=True)
        return _view(await update_user(tenant_session, user, data, tenant_actor))

    @delete("/{user_id:uuid}", summary="Remove a staff member (their tokens stop working at once)", status_code=204)
    async def remove(
        self,
        user_id: FromPath[uuid.UUID],
        tenant_caller: NamedDependency[TenantCaller],
        tenant_actor: NamedDependency[TenantActor],
        tenant_session: NamedDependency[AsyncSession],
    ) -> None:
        tenant_caller.require(ADMIN)
        user = await live_user(tenant_session, user_id, for_update=True)
        await delete_user(tenant_session, user, tenant_actor)


class TenantAuthController(Controller):
    path = "/auth"
    tags = ["tenant"]  # noqa: RUF012 - Litestar declares it as an instance attribute
    middleware = [auth_limited]  # noqa: RUF012 - every route here takes a password

    @post("/login", status_code=200, summary="Staff log in; the token works on this instance only",
          opt=problems(401, without=[402, 409]))  # fmt: skip
    async def login(
        self,
        data: JSONBody[TenantLoginRequest],
        tenant: NamedDependency[ResolvedTenant],
        tenant_login_session: NamedDependency[AsyncSession],
        state: State,
    ) -> TenantTokenResponse:
        user = await authenticate(tenant_login_session, data.email, data.password)
        assert state.settings.jwt_secret is not None
        issued = issue_tenant_token(state.settings.jwt_secret.get_secret_value(), user.id, tenant.instance_id,
                                    user.role.value, generation=user.token_generation)  # fmt: skip
        return TenantTokenResponse(access_token=issued.token, expires_in=issued.expires_in, role=user.role.value)
