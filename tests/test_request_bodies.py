"""A body that is not UTF-8, or JSON nested absurdly deep, is the client's fault: 400, never 500."""

from __future__ import annotations

from typing import Any

import pytest

from kitehub.settings import Settings
from tests.conftest import TenantFactory
from tests.platform.api import owner_headers
from tests.tenant.support import schools

NOT_UTF8 = b'{"email": "\xff\xfe@school.vn", "password": "x"}'
TOO_DEEP_LIST = b"[" * 100_000 + b"]" * 100_000
TOO_DEEP_OBJECT = b'{"a":' * 20_000 + b"1" + b"}" * 20_000
BAD_BODIES = pytest.mark.parametrize("body", [NOT_UTF8, TOO_DEEP_LIST, TOO_DEEP_OBJECT], ids=["utf8", "list", "object"])
JSON = {"content-type": "application/json"}


def _assert_bad_request(response: Any) -> None:
    assert response.status_code == 400, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    body = response.json()
    assert body["status"] == 400
    assert body["detail"]
    assert body["request_id"] == response.headers["x-request-id"]


@BAD_BODIES
async def test_platform_routes_answer_bad_bodies_with_400(client: Any, body: bytes) -> None:
    _assert_bad_request(await client.post("/api/v1/auth/login", content=body, headers=JSON))
    owner = await owner_headers(client)
    _assert_bad_request(await client.post("/api/v1/instances", content=body, headers={**owner, **JSON}))


async def test_tenant_routes_answer_bad_bodies_with_400(make_tenant: TenantFactory, settings: Settings) -> None:
    async with schools(settings, await make_tenant()) as (school,):
        for body in (NOT_UTF8, TOO_DEEP_LIST, TOO_DEEP_OBJECT):
            _assert_bad_request(await school.call("POST", "/auth/login", headers=JSON, content=body))
            _assert_bad_request(await school.call("POST", "/courses", headers={**school.owner, **JSON}, content=body))
