from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import jwt
import pytest
from litestar.testing import AsyncTestClient
from sqlalchemy.engine import URL

from kitehub.platform.accounts.tokens import ALGORITHM, AUDIENCE, ISSUER
from kitehub.settings import Settings
from tests.platform.api import UA, audit_rows, login, owner_headers
from tests.support import connect


async def test_signup_login_and_me(client: AsyncTestClient, platform_url: URL) -> None:  # type: ignore[type-arg]
    headers = await owner_headers(client, "Teacher@School.VN")
    me = await client.get("/api/v1/me", headers=headers)
    assert me.status_code == 200
    assert me.json()["email"] == "Teacher@School.VN"
    assert me.json()["role"] == "owner"
    async with connect(platform_url) as conn:
        stored = await conn.fetchval("SELECT password_hash FROM accounts WHERE email = 'Teacher@School.VN'")
    assert stored.startswith("$argon2id$")
    signup = (await audit_rows(platform_url, "account.signup"))[0]
    assert signup["user_agent"] == UA["User-Agent"]
    assert "password" not in str(signup["after"])


async def test_the_token_is_short_lived_and_well_formed(client: AsyncTestClient, settings: Settings) -> None:  # type: ignore[type-arg]
    await owner_headers(client, "t@school.vn")
    response = await client.post("/api/v1/auth/login", json={"email": "T@SCHOOL.VN", "password": "correct-horse-1"})
    body = response.json()
    assert body["token_type"] == "bearer"
    assert body["expires_in"] == 900
    assert settings.jwt_secret is not None
    claims = jwt.decode(body["access_token"], settings.jwt_secret.get_secret_value(), algorithms=[ALGORITHM],
                        audience=AUDIENCE, issuer=ISSUER)  # fmt: skip
    assert claims["exp"] - claims["iat"] == 900


@pytest.mark.parametrize(
    ("body", "status"),
    [
        ({"email": "a@school.vn", "password": "short", "full_name": "A"}, 422),
        ({"email": "not-an-email", "password": "long-enough-1", "full_name": "A"}, 422),
        ({"email": "a@school.vn", "password": "long-enough-1", "full_name": "A", "role": "admin"}, 422),
        ({"email": "a@school.vn", "password": "long-enough-1"}, 422),
    ],
)
async def test_bad_signups_are_refused(client: AsyncTestClient, body: dict[str, str], status: int) -> None:  # type: ignore[type-arg]
    response = await client.post("/api/v1/auth/signup", json=body)
    assert response.status_code == status
    assert response.headers["content-type"].startswith("application/problem+json")


async def test_an_email_is_taken_case_insensitively(client: AsyncTestClient) -> None:  # type: ignore[type-arg]
    await owner_headers(client, "dup@school.vn")
    again = await client.post(
        "/api/v1/auth/signup", json={"email": "DUP@school.vn", "password": "long-enough-1", "full_name": "B"}
    )
    assert again.status_code == 409


@pytest.mark.parametrize("known", [True, False])
async def test_repeated_failures_lock_the_address(client: AsyncTestClient, known: bool) -> None:  # type: ignore[type-arg]
    email = "locked@school.vn"
    if known:
        await owner_headers(client, email)
    for _ in range(5):
        wrong = await client.post("/api/v1/auth/login", json={"email": email, "password": "wrong-password"})
        assert wrong.status_code == 401
    locked = await client.post("/api/v1/auth/login", json={"email": email, "password": "correct-horse-1"})
    assert locked.status_code == 429
    assert int(locked.headers["retry-after"]) >= 1


async def test_a_successful_login_resets_the_count(client: AsyncTestClient) -> None:  # type: ignore[type-arg]
    await owner_headers(client, "reset@school.vn")
    for _ in range(4):
        await client.post("/api/v1/auth/login", json={"email": "reset@school.vn", "password": "nope-nope-nope"})
    await login(client, "reset@school.vn", "correct-horse-1")
    for _ in range(4):
        await client.post("/api/v1/auth/login", json={"email": "reset@school.vn", "password": "nope-nope-nope"})
    await login(client, "reset@school.vn", "correct-horse-1")  # still not locked


def _token(settings: Settings, **overrides: object) -> str:
    assert settings.jwt_secret is not None
    now = datetime.now(UTC)
    claims: dict[str, object] = {"sub": str(uuid.uuid4()), "iss": ISSUER, "aud": AUDIENCE, "iat": now,
                                 "exp": now + timedelta(minutes=5), **overrides}  # fmt: skip
    return jwt.encode({k: v for k, v in claims.items() if v is not None}, settings.jwt_secret.get_secret_value(),
                      algorithm=ALGORITHM)  # fmt: skip


async def test_bad_tokens_are_401(client: AsyncTestClient, settings: Settings) -> None:  # type: ignore[type-arg]
    headers = await owner_headers(client)
    me = (await client.get("/api/v1/me", headers=headers)).json()["id"]
    assert settings.jwt_secret is not None
    secret = settings.jwt_secret.get_secret_value()
    now = datetime.now(UTC)
    bad = [
        _token(settings, sub=me, exp=now - timedelta(seconds=1)),  # expired
        _token(settings, sub=me, aud="someone-else"),
        _token(settings, sub=me, iss="someone-else"),
        _token(settings, sub=me, exp=None),  # no expiry
        jwt.encode(
            {"sub": me, "iss": ISSUER, "aud": AUDIENCE, "exp": now + timedelta(minutes=5)},
            secret[::-1],
            algorithm=ALGORITHM,
        ),
        jwt.encode(
            {"sub": me, "iss": ISSUER, "aud": AUDIENCE, "exp": now + timedelta(minutes=5)}, "", algorithm="none"
        ),
        "garbage",
    ]
    for token in bad:
        response = await client.get("/api/v1/me", headers={"Authorization": f"Bearer {token}"})
        assert response.status_code == 401, token
    assert (await client.get("/api/v1/me")).status_code == 401


async def test_logins_are_audited_without_the_password(client: AsyncTestClient, platform_url: URL) -> None:  # type: ignore[type-arg]
    await owner_headers(client, "audited@school.vn")
    await client.post("/api/v1/auth/login", json={"email": "audited@school.vn", "password": "wrong-password"})
    succeeded, failed = (
        await audit_rows(platform_url, "account.login"),
        await audit_rows(platform_url, "account.login_failed"),
    )
    assert len(succeeded) == 1
    assert succeeded[0]["user_agent"] == UA["User-Agent"]
    assert len(failed) == 1
    assert "wrong-password" not in str(failed[0])
    assert "correct-horse" not in str(failed[0])
