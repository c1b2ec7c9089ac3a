"""Isolation matrix: another owner's instance does not exist on any route; owners are no admins."""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from litestar.testing import AsyncTestClient

from tests.platform.api import create_instance, owner_headers

INSTANCE_ROUTES: list[tuple[str, str, dict[str, Any] | None]] = [
    ("GET", "/api/v1/instances/{id}", None),
    ("PATCH", "/api/v1/instances/{id}", {"organization_name": "Stolen"}),
    ("PUT", "/api/v1/instances/{id}/bank-account",
     {"bank_code": "970436", "account_number": "123456", "account_name": "THIEF"}),
    ("DELETE", "/api/v1/instances/{id}", None),
]  # fmt: skip
ADMIN_ROUTES: list[tuple[str, str]] = [
    ("GET", "/api/v1/admin/instances"),
    ("POST", "/api/v1/admin/instances/{id}/suspend"),
    ("POST", "/api/v1/admin/instances/{id}/resume"),
    ("POST", "/api/v1/admin/instances/{id}/retry-provisioning"),
    ("DELETE", "/api/v1/admin/instances/{id}"),
    ("GET", "/api/v1/admin/audit-log"),
    ("GET", "/api/v1/admin/database-servers"),
    ("POST", "/api/v1/admin/database-servers"),
]


async def test_two_owners_never_reach_each_others_instances(client: AsyncTestClient[Any]) -> None:
    owners = [await owner_headers(client) for _ in range(2)]
    instances = [await create_instance(client, headers) for headers in owners]
    for me, headers in enumerate(owners):
        theirs = instances[1 - me]
        for method, path, body in INSTANCE_ROUTES:
            response = await client.request(method, path.format(id=theirs["id"]), json=body, headers=headers)
            assert response.status_code == 404, (method, path, response.text)
        listed = (await client.get("/api/v1/instances", headers=headers)).json()
        assert [item["id"] for item in listed["items"]] == [instances[me]["id"]]
        own = await client.get(f"/api/v1/instances/{instances[me]['id']}", headers=headers)
        assert own.status_code == 200
    for instance in instances:  # nothing was changed by the attempts
        owner = owners[instances.index(instance)]
        body = (await client.get(f"/api/v1/instances/{instance['id']}", headers=owner)).json()
        assert (body["organization_name"], body["bank_account"], body["status"]) == ("School", None, "PROVISIONING")


async def test_an_unknown_instance_is_404_like_someone_elses(client: AsyncTestClient[Any]) -> None:
    headers = await owner_headers(client)
    for method, path, body in INSTANCE_ROUTES:
        response = await client.request(method, path.format(id=uuid.uuid4()), json=body, headers=headers)
        assert response.status_code == 404


@pytest.mark.parametrize(("method", "path"), ADMIN_ROUTES)
async def test_owners_get_403_on_admin_routes(client: AsyncTestClient[Any], method: str, path: str) -> None:
    headers = await owner_headers(client)
    instance = await create_instance(client, headers)
    body = (
        {"name": "x", "url": "postgresql://x@h/db"} if path.endswith("database-servers") and method == "POST" else None
    )
    response = await client.request(method, path.format(id=instance["id"]), json=body, headers=headers)
    assert response.status_code == 403, response.text
    anonymous = await client.request(method, path.format(id=instance["id"]), json=body)
    assert anonymous.status_code == 401
