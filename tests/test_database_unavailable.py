"""Every route answers 503 with Retry-After, never 500, while the platform database is away."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy.engine import URL

from kitehub.app import create_app
from tests.client import ConcurrentTestClient
from tests.conftest import bearer, make_settings

REQUESTS: list[tuple[str, str, dict[str, Any]]] = [
    ("GET", "/api/v1/tiers", {}),
    ("POST", "/api/v1/auth/login", {"json": {"email": "co.lan@truong.vn", "password": "mat-khau-rat-dai"}}),
    ("GET", "/api/v1/instances", {"authenticated": True}),
    ("GET", "/api/v1/me", {"authenticated": True}),
    ("GET", "/tenant/v1/health", {"headers": {"Host": "truong-lan.kitehub.localhost"}}),
]


@pytest.mark.parametrize(
    "away",
    [
        pytest.param(lambda url: url.set(query={"host": "/nonexistent/socket/dir", "port": "5432"}), id="server-gone"),
        pytest.param(lambda url: url.set(database="kitehub_gone"), id="database-gone"),
    ],
)
async def test_every_route_answers_503_while_the_platform_database_is_away(
    tmp_path: Path, server_url: URL, away: Callable[[URL], URL]
) -> None:
    settings = make_settings(tmp_path, away(server_url))
    headers = bearer(settings, uuid.uuid4())
    async with ConcurrentTestClient(create_app(settings)) as client:
        for method, path, options in REQUESTS:
            response = await client.request(
                method,
                path,
                json=options.get("json"),
                headers={**options.get("headers", {}), **(headers if options.get("authenticated") else {})},
            )
            assert response.status_code == 503, (path, response.text)
            assert response.headers["retry-after"], path
            assert response.headers["content-type"].startswith("application/problem+json")
