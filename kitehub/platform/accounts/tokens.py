"""Access tokens: short JWTs with a pinned algorithm and required exp, iss, aud and sub.

The token only says who is calling; what they may do is read from the database on every request.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import jwt

ALGORITHM = "HS256"
ISSUER = "kitehub"
AUDIENCE = "kitehub-api"
ACCESS_TOKEN_TTL = timedelta(minutes=15)


class InvalidTokenError(Exception):
    pass


@dataclass(frozen=True, slots=True)
class IssuedToken:
    token: str
    expires_in: int


def issue_access_token(secret: str, account_id: uuid.UUID, role: str) -> IssuedToken:
    now = datetime.now(UTC)
    claims = {
        "sub": str(account_id),
        "role": role,
        "iss": ISSUER,
        "aud": AUDIENCE,
        "iat": now,
        "nbf": now,
        "exp": now + ACCESS_TOKEN_TTL,
        "jti": uuid.uuid4().hex,
    }
    return IssuedToken(jwt.encode(claims, secret, algorithm=ALGORITHM), int(ACCESS_TOKEN_TTL.total_seconds()))


def account_id_from_token(secret: str, token: str) -> uuid.UUID:
    try:
        claims = jwt.decode(
            token,
            secret,
            algorithms=[ALGORITHM],
            audience=AUDIENCE,
            issuer=ISSUER,
            options={"require": ["exp", "iss", "aud", "sub", "iat"]},
        )
        return uuid.UUID(str(claims["sub"]))
    except (jwt.PyJWTError, ValueError) as exc:
        raise InvalidTokenError(str(exc)) from None
