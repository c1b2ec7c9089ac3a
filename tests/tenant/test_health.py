"""``GET /tenant/v1/health`` through the whole app: Host routing to each tenant's own database."""

from __future__ import annotations

import pytest
from sqlalchemy.engine import URL

from kitehub.app import create_app
from kitehub.settings import Settings
from tests.client import ConcurrentTestClient
from tests.conftest import TenantFactory, bearer
from tests.support import connect


async def test_each_host_reaches_its_own_tenant(make_tenant: TenantFactory, settings: Settings) -> None:
    tenants = [await make_tenant() for _ in range(3)]
    async with ConcurrentTestClient(create_app(settings)) as client:
        for tenant in tenants:
            response = await client.get(
                "/tenant/v1/health",
                headers={"Host": f"{tenant.subdomain}.kitehub.localhost", **bearer(settings, tenant.owner_id)},
            )
            assert response.status_code == 200, response.text
            assert response.json() == {
                "instance": str(tenant.id),
                "subdomain": tenant.subdomain,
                "schema_revision": tenant.schema_revision,
            }
        by_header = await client.get(
            "/tenant/v1/health",
            headers={"X-KiteHub-Instance": tenants[0].subdomain, **bearer(settings, tenants[0].owner_id)},
        )
        assert by_header.json()["instance"] == str(tenants[0].id)


async def test_unknown_and_unready_tenants_get_problems(make_tenant: TenantFactory, settings: Settings) -> None:
    waiting = await make_tenant(provision=False)
    host = {"Host": f"{waiting.subdomain}.kitehub.localhost"}
    async with ConcurrentTestClient(create_app(settings)) as client:
        unknown = await client.get("/tenant/v1/health", headers={"Host": "nobody.kitehub.localhost"})
        not_ready = await client.get("/tenant/v1/health", headers={**host, **bearer(settings, waiting.owner_id)})
        stranger = await client.get("/tenant/v1/health", headers=host)
    assert unknown.status_code == 404
    assert unknown.headers["content-type"].startswith("application/problem+json")
    assert not_ready.status_code == 503
    assert not_ready.headers["retry-after"]
    assert not_ready.json()["instance_status"] == "PROVISIONING"
    assert stranger.status_code == 401  # who is not allowed in learns nothing of the instance's state
    assert "PROVISIONING" not in stranger.text


async def test_an_unreachable_tenant_database_is_a_503_not_a_500(
    make_tenant: TenantFactory, settings: Settings, server_url: URL
) -> None:
    tenant = await make_tenant()
    async with connect(server_url.set(database="postgres")) as admin:
        await admin.execute(f'DROP DATABASE "{tenant.database_name}" WITH (FORCE)')
    async with ConcurrentTestClient(create_app(settings)) as client:
        response = await client.get(
            "/tenant/v1/health",
            headers={"Host": f"{tenant.subdomain}.kitehub.localhost", **bearer(settings, tenant.owner_id)},
        )
    assert response.status_code == 503
    assert response.headers["retry-after"]
    assert response.headers["content-type"].startswith("application/problem+json")


@pytest.mark.parametrize(
    "headers",
    [
        {"X-KiteHub-Instance": "bad\x00name"},
        {"X-KiteHub-Instance": "x" * 300},
        {"Host": "bad_name!.kitehub.localhost"},
        {"Host": "-" * 300},
    ],
)
async def test_malformed_tenant_names_are_a_404(settings: Settings, headers: dict[str, str]) -> None:
    async with ConcurrentTestClient(create_app(settings)) as client:
        response = await client.get("/tenant/v1/health", headers=headers)
    assert response.status_code == 404
    assert response.headers["content-type"].startswith("application/problem+json")


async def test_tenant_routes_need_the_owners_token(make_tenant: TenantFactory, settings: Settings) -> None:
    import uuid

    tenant = await make_tenant()
    host = {"Host": f"{tenant.subdomain}.kitehub.localhost"}
    async with ConcurrentTestClient(create_app(settings)) as client:
        anonymous = await client.get("/tenant/v1/health", headers=host)
        forged = await client.get("/tenant/v1/health", headers={**host, "Authorization": "Bearer not.a.jwt"})
        stranger = await client.get("/tenant/v1/health", headers={**host, **bearer(settings, uuid.uuid4())})
    assert anonymous.status_code == 401
    assert anonymous.headers["www-authenticate"] == "Bearer"
    assert forged.status_code == 401
    assert stranger.status_code == 401  # a token for an account that does not exist
