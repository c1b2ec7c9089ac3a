"""Per-address limits on the password and token endpoints (log-in, sign-up, setting a password or
a key), platform and tenant alike.

Two limits, both per client address (``scope["client"]``; behind a proxy, run uvicorn with proxy
headers or every client shares the proxy's address):

- a rate: ``KITEHUB_AUTH_RATE_LIMIT`` requests per minute, one budget for all these endpoints
  together; beyond it 429 with ``Retry-After`` (0 turns the rate off). The 429 is sent after
  ``REFUSAL_DELAY_SECONDS`` (a sleep, no CPU): a client that retries at once would otherwise spin
  the server with refusals, hundreds a second, which cost everyone else's log-ins nearly as much
  as its password checks did;
- a turn: one request of an address is handled at a time, the others wait in line. A password
  check is tens of milliseconds of CPU and only a few run at once (``passwords.CONCURRENT_HASHES``);
  without turns a burst from one address would fill that queue and everyone else's log-in would
  wait behind all of it, with turns it waits behind at most one request of each other address.

Both are kept per process (see ``kitehub.rate_limit``). Applied to a route handler as
``middleware=[auth_limited]``, so it runs before the body is read or a database touched.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field

from litestar import Litestar
from litestar.enums import ScopeType
from litestar.middleware import ASGIMiddleware
from litestar.types import ASGIApp, Receive, Scope, Send

from kitehub.errors import TooManyRequestsError
from kitehub.rate_limit import RateLimiter, Turns, client_address

REFUSAL_DELAY_SECONDS = 1.0


@dataclass(frozen=True, slots=True)
class AuthLimits:
    """What a running process keeps for ``auth_limited`` (``app.state.auth_limits``)."""

    rate: RateLimiter
    turns: Turns = field(default_factory=Turns)

    @classmethod
    def per_minute(cls, requests: int) -> AuthLimits:
        return cls(RateLimiter(requests))


class AuthLimited(ASGIMiddleware):
    scopes = (ScopeType.HTTP,)
    problem_codes = frozenset({429})  # documented on every route it guards (kitehub.openapi_problems)

    async def handle(self, scope: Scope, receive: Receive, send: Send, next_app: ASGIApp) -> None:
        limits: AuthLimits = Litestar.from_scope(scope).state.auth_limits
        address = client_address(scope)
        try:
            limits.rate.check(address)
        except TooManyRequestsError:
            await asyncio.sleep(REFUSAL_DELAY_SECONDS)
            raise
        async with limits.turns.take(address):
            await next_app(scope, receive, send)


auth_limited = AuthLimited()
