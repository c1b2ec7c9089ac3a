"""A school to test tenant routes against: a provisioned tenant, the app, and its owner's headers."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

from litestar.testing import AsyncTestClient

from kitehub.app import create_app
from kitehub.platform.instances.models import Instance
from kitehub.settings import Settings
from tests.client import ConcurrentTestClient
from tests.conftest import bearer


@dataclass
class School:
    tenant: Instance
    client: AsyncTestClient[Any]
    owner: dict[str, str]

    def as_(self, headers: dict[str, str]) -> dict[str, str]:
        return {"Host": f"{self.tenant.subdomain}.kitehub.localhost", **headers}

    async def call(self, method: str, path: str, *, headers: dict[str, str] | None = None, **kwargs: Any) -> Any:
        return await self.client.request(
            method, f"/tenant/v1{path}", headers=self.as_(self.owner if headers is None else headers), **kwargs
        )

    async def make(self, path: str, body: dict[str, Any]) -> dict[str, Any]:
        response = await self.call("POST", path, json=body)
        assert response.status_code == 201, response.text
        created: dict[str, Any] = response.json()
        return created

    async def staff(self, role: str, email: str) -> dict[str, str]:
        await self.make("/users", {"email": email, "full_name": email, "role": role, "password": "mat-khau-dai"})
        login = await self.call("POST", "/auth/login", headers={}, json={"email": email, "password": "mat-khau-dai"})
        assert login.status_code == 200, login.text
        return {"Authorization": f"Bearer {login.json()['access_token']}"}


@asynccontextmanager
async def schools(settings: Settings, *tenants: Instance) -> AsyncIterator[list[School]]:
    async with ConcurrentTestClient(create_app(settings)) as client:
        yield [School(tenant, client, bearer(settings, tenant.owner_id)) for tenant in tenants]
