"""Who is calling: the bearer token checked, the account read from the database every time."""

from __future__ import annotations

from typing import Any

from litestar import Request
from litestar.datastructures import State
from litestar.di import NamedDependency
from sqlalchemy.ext.asyncio import AsyncSession

from kitehub.errors import NotAuthenticatedError, PermissionDeniedError
from kitehub.platform.accounts.models import Account, AccountRole
from kitehub.platform.accounts.tokens import InvalidTokenError, account_id_from_token
from kitehub.settings import Settings


def bearer_token(request: Request[Any, Any, Any]) -> str | None:
    scheme, _, token = request.headers.get("authorization", "").partition(" ")
    return token.strip() or None if scheme.lower() == "bearer" else None


async def account_for_token(session: AsyncSession, settings: Settings, token: str | None) -> Account:
    if token is None:
        raise NotAuthenticatedError()
    assert settings.jwt_secret is not None
    try:
        account_id = account_id_from_token(settings.jwt_secret.get_secret_value(), token)
    except InvalidTokenError:
        raise NotAuthenticatedError("the bearer token is invalid or expired") from None
    account = await session.get(Account, account_id)
    if account is None or account.deleted_at is not None or not account.is_active:
        raise NotAuthenticatedError("the bearer token's account no longer exists")
    return account


async def provide_current_account(
    request: Request[Any, Any, Any], platform_session: NamedDependency[AsyncSession], state: State
) -> Account:
    return await account_for_token(platform_session, state.settings, bearer_token(request))


async def provide_current_admin(current_account: NamedDependency[Account]) -> Account:
    if current_account.role is not AccountRole.ADMIN:
        raise PermissionDeniedError("platform admins only")
    return current_account
