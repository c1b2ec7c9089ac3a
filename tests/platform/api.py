"""Helpers for API tests: accounts that sign up and log in like users do."""

from __future__ import annotations

import uuid
from typing import Any

from litestar.testing import AsyncTestClient
from sqlalchemy.engine import URL

from kitehub.platform.accounts.models import AccountRole
from kitehub.platform.accounts.services import create_account
from tests.support import connect

UA = {"User-Agent": "kitehub-tests/1.0"}


async def owner_headers(client: AsyncTestClient[Any], email: str | None = None) -> dict[str, str]:
    email = email or f"owner-{uuid.uuid4().hex[:8]}@school.vn"
    signed_up = await client.post(
        "/api/v1/auth/signup", json={"email": email, "password": "correct-horse-1", "full_name": "Co Lan"}, headers=UA
    )
    assert signed_up.status_code == 201, signed_up.text
    return await login(client, email, "correct-horse-1")


async def login(client: AsyncTestClient[Any], email: str, password: str) -> dict[str, str]:
    response = await client.post("/api/v1/auth/login", json={"email": email, "password": password}, headers=UA)
    assert response.status_code == 200, response.text
    return {"Authorization": f"Bearer {response.json()['access_token']}", **UA}


async def admin_headers(client: AsyncTestClient[Any], sessions: Any) -> dict[str, str]:
    email = f"admin-{uuid.uuid4().hex[:8]}@kitehub.test"
    async with sessions() as session, session.begin():
        await create_account(
            session, email=email, password="admin-password-1", full_name="Admin", role=AccountRole.ADMIN
        )
    return await login(client, email, "admin-password-1")


async def create_instance(client: AsyncTestClient[Any], headers: dict[str, str], **body: Any) -> dict[str, Any]:
    payload = {"subdomain": f"s-{uuid.uuid4().hex[:10]}", "organization_name": "School", **body}
    response = await client.post("/api/v1/instances", json=payload, headers=headers)
    assert response.status_code == 202, response.text
    created: dict[str, Any] = response.json()
    return created


async def audit_rows(platform_url: URL, action: str) -> list[dict[str, Any]]:
    async with connect(platform_url) as conn:
        rows = await conn.fetch("SELECT * FROM audit_log WHERE action = $1 ORDER BY id", action)
    return [dict(row) for row in rows]
