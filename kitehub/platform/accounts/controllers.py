"""``/api/v1/auth`` and ``/api/v1/me``."""

from __future__ import annotations

from litestar import Controller, get, post
from litestar.datastructures import State
from litestar.di import NamedDependency
from litestar.params import JSONBody
from sqlalchemy.ext.asyncio import AsyncSession

from kitehub.auth_limits import auth_limited
from kitehub.openapi_problems import problems
from kitehub.platform.accounts.models import Account
from kitehub.platform.accounts.schemas import AccountResponse, LoginRequest, SignupRequest, TokenResponse
from kitehub.platform.accounts.services import authenticate, signup
from kitehub.platform.accounts.tokens import issue_access_token
from kitehub.platform.audit.services import AuditActor


def account_response(account: Account) -> AccountResponse:
    return AccountResponse(
        id=account.id,
        email=account.email,
        full_name=account.full_name,
        role=account.role.value,
        created_at=account.created_at,
    )


class AuthController(Controller):
    path = "/api/v1/auth"
    tags = ["auth"]  # noqa: RUF012 - Litestar declares it as an instance attribute
    middleware = [auth_limited]  # noqa: RUF012 - every route here takes a password

    @post("/signup", summary="Create an owner account", status_code=201)
    async def sign_up(
        self,
        data: JSONBody[SignupRequest],
        platform_session: NamedDependency[AsyncSession],
        audit_actor: NamedDependency[AuditActor],
    ) -> AccountResponse:
        account = await signup(platform_session, audit_actor, data.email, data.password, data.full_name)
        return account_response(account)

    @post("/login", summary="Exchange e-mail and password for a 15-minute access token", status_code=200,
          opt=problems(401, without=[409]))  # fmt: skip
    async def login(
        self,
        data: JSONBody[LoginRequest],
        platform_session: NamedDependency[AsyncSession],
        audit_actor: NamedDependency[AuditActor],
        state: State,
    ) -> TokenResponse:
        account = await authenticate(platform_session, audit_actor, data.email, data.password)
        issued = issue_access_token(state.settings.jwt_secret.get_secret_value(), account.id, account.role.value)
        return TokenResponse(access_token=issued.token, expires_in=issued.expires_in)


class MeController(Controller):
    path = "/api/v1/me"
    tags = ["auth"]  # noqa: RUF012 - Litestar declares it as an instance attribute

    @get(summary="The calling account")
    async def me(self, current_account: NamedDependency[Account]) -> AccountResponse:
        return account_response(current_account)
