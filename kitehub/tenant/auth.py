"""Who may use a tenant route, and as which role.

Two kinds of callers: the instance's owner with a platform token (acts as tenant ``admin``), and
tenant users with a token bound to this instance (``admin``, ``teacher`` or ``staff``). Platform
admins steer instances but never read their data. The token is checked before the instance's state
is revealed (``tenant_identity``); the user row is then read from the tenant's own database on
every request (``tenant_caller``), so a deactivated user is out at once, and so is every token
issued before the user's password, role or active flag last changed (their ``token_generation``).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

from litestar import Request
from litestar.datastructures import State
from litestar.di import NamedDependency
from sqlalchemy.ext.asyncio import AsyncSession

from kitehub.errors import NotAuthenticatedError, PermissionDeniedError
from kitehub.platform.accounts.dependencies import account_for_token, bearer_token
from kitehub.platform.accounts.models import AccountRole
from kitehub.platform.accounts.tokens import InvalidTokenError
from kitehub.provisioning.resolution import ResolvedTenant
from kitehub.tenant.users.models import TenantRole, TenantUser
from kitehub.tenant.users.tokens import is_tenant_token, tenant_claims


@dataclass(frozen=True, slots=True)
class TenantIdentity:
    """What the token proves, before the tenant database is opened."""

    account_id: uuid.UUID | None = None  # the owner, by platform token
    user_id: uuid.UUID | None = None  # a tenant user, by tenant token
    generation: int = 0  # the user's token generation when the token was issued
    email: str | None = None  # the owner's (a user's is read with the user)

    async def verify(self, session: AsyncSession) -> TenantCaller:
        """The caller as the tenant database knows it now; 401 for a removed or inactive user, or
        for a token issued before the user's password, role or active flag last changed."""
        if self.account_id is not None:
            return TenantCaller(role=TenantRole.ADMIN, account_id=self.account_id, email=self.email)
        user = await session.get(TenantUser, self.user_id)
        if user is None or user.deleted_at is not None or not user.is_active:
            raise NotAuthenticatedError("the bearer token's user no longer exists")
        if user.token_generation != self.generation:
            raise NotAuthenticatedError("the bearer token was revoked (the user's account changed); log in again")
        return TenantCaller(role=user.role, user_id=user.id, email=user.email)


@dataclass(frozen=True, slots=True)
class TenantCaller:
    role: TenantRole
    account_id: uuid.UUID | None = None
    user_id: uuid.UUID | None = None
    email: str | None = None

    def require(self, *roles: TenantRole) -> None:
        if self.role not in roles:
            allowed = " or ".join(role.value for role in roles)
            raise PermissionDeniedError(f"this needs the {allowed} role; you are {self.role.value}",
                                        extra={"role": self.role.value})  # fmt: skip


async def provide_tenant_identity(
    request: Request[Any, Any, Any],
    tenant: NamedDependency[ResolvedTenant],
    platform_session: NamedDependency[AsyncSession],
    state: State,
) -> TenantIdentity:
    token = bearer_token(request)
    assert state.settings.jwt_secret is not None
    if token is not None and is_tenant_token(token):
        try:
            claims = tenant_claims(state.settings.jwt_secret.get_secret_value(), token)
        except InvalidTokenError:
            raise NotAuthenticatedError("the bearer token is invalid or expired") from None
        if claims.instance_id != tenant.instance_id:
            raise NotAuthenticatedError("this token belongs to another instance")
        return TenantIdentity(user_id=claims.user_id, generation=claims.generation)
    account = await account_for_token(platform_session, state.settings, token)
    # the check was a read: its platform connection goes back to the pool now, not when the request
    # ends, since the tenant work may need platform connections of its own (a storage quota, an
    # audit row); holding one while waiting for another starved the pool under concurrent uploads
    await platform_session.commit()
    if account.role is AccountRole.ADMIN:
        raise PermissionDeniedError("platform admins manage instances but do not read their data")
    if account.id != tenant.owner_id:
        raise PermissionDeniedError("this token is not valid for this instance")
    return TenantIdentity(account_id=account.id, email=account.email)


async def provide_tenant_caller(
    request: Request[Any, Any, Any], tenant_session: NamedDependency[AsyncSession]
) -> TenantCaller:
    """Set when ``tenant_session`` opened (and verified the identity in that database)."""
    caller: TenantCaller = request.state.tenant_caller
    return caller
