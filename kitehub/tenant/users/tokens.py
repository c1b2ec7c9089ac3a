"""Tenant user tokens: bound to one instance (claim ``tid``), refused on any other.

Same rules as platform tokens (pinned HS256, required exp/iss/aud/sub, 15 minutes) with their own
audience, so a tenant token never opens the platform API and a platform token is never taken for
a tenant user.

Claim ``gen`` is the user's ``token_generation`` at issue; the tenant database raises it when the
password, the role or the active flag changes, and a token whose ``gen`` no longer matches is
refused on its next request. Tokens issued before the claim existed count as generation 0.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, datetime

import jwt

from kitehub.platform.accounts.tokens import ACCESS_TOKEN_TTL, ALGORITHM, ISSUER, InvalidTokenError, IssuedToken

AUDIENCE = "kitehub-tenant"


@dataclass(frozen=True, slots=True)
class TenantClaims:
    user_id: uuid.UUID
    instance_id: uuid.UUID
    generation: int = 0


def issue_tenant_token(
    secret: str, user_id: uuid.UUID, instance_id: uuid.UUID, role: str, *, generation: int
) -> IssuedToken:
    now = datetime.now(UTC)
    claims = {
        "sub": str(user_id),
        "tid": str(instance_id),
        "role": role,
        "gen": generation,
        "iss": ISSUER,
        "aud": AUDIENCE,
        "iat": now,
        "nbf": now,
        "exp": now + ACCESS_TOKEN_TTL,
        "jti": uuid.uuid4().hex,
    }
    return IssuedToken(jwt.encode(claims, secret, algorithm=ALGORITHM), int(ACCESS_TOKEN_TTL.total_seconds()))


def is_tenant_token(token: str) -> bool:
    """Which validator applies (the audience, read unverified: the validator then checks all)."""
    try:
        claims = jwt.decode(token, options={"verify_signature": False})
    except jwt.PyJWTError:
        return False
    return claims.get("aud") == AUDIENCE


def tenant_claims(secret: str, token: str) -> TenantClaims:
    try:
        claims = jwt.decode(
            token,
            secret,
            algorithms=[ALGORITHM],
            audience=AUDIENCE,
            issuer=ISSUER,
            options={"require": ["exp", "iss", "aud", "sub", "iat", "tid"]},
        )
        generation = claims.get("gen", 0)
        if not isinstance(generation, int) or isinstance(generation, bool):
            raise InvalidTokenError("the token's generation is not an integer")
        return TenantClaims(uuid.UUID(str(claims["sub"])), uuid.UUID(str(claims["tid"])), generation)
    except (jwt.PyJWTError, ValueError) as exc:
        raise InvalidTokenError(str(exc)) from None
