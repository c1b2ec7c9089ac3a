"""Tenant callers: the owner as admin, staff with instance-bound tokens, and everyone else refused."""

from __future__ import annotations

from typing import Any

from litestar.testing import AsyncTestClient
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from kitehub.app import create_app
from kitehub.settings import Settings
from tests.client import ConcurrentTestClient
from tests.conftest import TenantFactory, bearer
from tests.platform.api import admin_headers

Client = AsyncTestClient[Any]


def _on(tenant: Any, headers: dict[str, str]) -> dict[str, str]:
    return {"Host": f"{tenant.subdomain}.kitehub.localhost", **headers}


async def _staff(client: Client, tenant: Any, owner: dict[str, str], role: str, email: str) -> dict[str, str]:
    created = await client.post(
        "/tenant/v1/users",
        json={"email": email, "full_name": "Thay Minh", "role": role, "password": "bang-phan-trang"},
        headers=_on(tenant, owner),
    )
    assert created.status_code == 201, created.text
    login = await client.post("/tenant/v1/auth/login", json={"email": email, "password": "bang-phan-trang"},
                              headers=_on(tenant, {}))  # fmt: skip
    assert login.status_code == 200, login.text
    assert login.json()["role"] == role
    return {"Authorization": f"Bearer {login.json()['access_token']}"}


async def test_staff_log_in_to_their_instance_and_act_by_role(make_tenant: TenantFactory, settings: Settings) -> None:
    school = await make_tenant()
    owner = bearer(settings, school.owner_id)
    async with ConcurrentTestClient(create_app(settings)) as client:
        teacher = await _staff(client, school, owner, "teacher", "thay.minh@truong.vn")

        reads = await client.get("/tenant/v1/courses", headers=_on(school, teacher))
        writes = await client.post("/tenant/v1/courses", json={"name": "Toan"}, headers=_on(school, teacher))
        manages = await client.post(
            "/tenant/v1/users",
            json={"email": "x@truong.vn", "full_name": "X", "role": "admin", "password": "0123456789"},
            headers=_on(school, teacher),
        )
        as_owner = await client.post("/tenant/v1/courses", json={"name": "Toan"}, headers=_on(school, owner))

    assert reads.status_code == 200
    assert writes.status_code == 403
    assert "admin" in writes.json()["detail"]
    assert manages.status_code == 403
    assert as_owner.status_code == 201


async def test_a_token_of_one_instance_is_refused_on_another(make_tenant: TenantFactory, settings: Settings) -> None:
    school_a, school_b = await make_tenant(), await make_tenant()
    async with ConcurrentTestClient(create_app(settings)) as client:
        staff_a = await _staff(client, school_a, bearer(settings, school_a.owner_id), "staff", "co.lan@a.vn")

        on_b = await client.get("/tenant/v1/courses", headers=_on(school_b, staff_a))
        on_platform = await client.get("/api/v1/me", headers=staff_a)
        on_a = await client.get("/tenant/v1/courses", headers=_on(school_a, staff_a))

    assert on_b.status_code == 401
    assert on_platform.status_code == 401
    assert on_a.status_code == 200


async def test_wrong_passwords_are_refused_then_locked(make_tenant: TenantFactory, settings: Settings) -> None:
    school = await make_tenant()
    async with ConcurrentTestClient(create_app(settings)) as client:
        await _staff(client, school, bearer(settings, school.owner_id), "teacher", "co.hoa@truong.vn")
        attempts = [
            await client.post(
                "/tenant/v1/auth/login",
                json={"email": "co.hoa@truong.vn", "password": "sai-roi-1234"},
                headers=_on(school, {}),
            )
            for _ in range(6)
        ]
        unknown = await client.post("/tenant/v1/auth/login", json={"email": "ai@truong.vn", "password": "x" * 10},
                                    headers=_on(school, {}))  # fmt: skip

    assert [r.status_code for r in attempts] == [401, 401, 401, 401, 401, 429]
    assert int(attempts[-1].headers["retry-after"]) > 0
    assert unknown.status_code == 401


async def test_removed_or_deactivated_staff_are_out_at_once(make_tenant: TenantFactory, settings: Settings) -> None:
    school = await make_tenant()
    owner = bearer(settings, school.owner_id)
    async with ConcurrentTestClient(create_app(settings)) as client:
        teacher = await _staff(client, school, owner, "teacher", "t1@truong.vn")
        staff = await _staff(client, school, owner, "staff", "s1@truong.vn")
        users = (await client.get("/tenant/v1/users?sort=email", headers=_on(school, owner))).json()["items"]
        ids = {user["email"]: user["id"] for user in users}

        deactivated = await client.patch(f"/tenant/v1/users/{ids['t1@truong.vn']}", json={"is_active": False},
                                         headers=_on(school, owner))  # fmt: skip
        removed = await client.delete(f"/tenant/v1/users/{ids['s1@truong.vn']}", headers=_on(school, owner))
        teacher_after = await client.get("/tenant/v1/courses", headers=_on(school, teacher))
        staff_after = await client.get("/tenant/v1/courses", headers=_on(school, staff))

    assert [user["email"] for user in users] == ["s1@truong.vn", "t1@truong.vn"]
    assert deactivated.status_code == 200
    assert removed.status_code == 204
    assert (teacher_after.status_code, staff_after.status_code) == (401, 401)


async def test_platform_admins_and_strangers_get_no_tenant_data(
    make_tenant: TenantFactory, settings: Settings, platform_sessions: async_sessionmaker[AsyncSession]
) -> None:
    school = await make_tenant()
    async with ConcurrentTestClient(create_app(settings)) as client:
        admin = await admin_headers(client, platform_sessions)
        as_admin = await client.get("/tenant/v1/courses", headers=_on(school, admin))
        anonymous = await client.get("/tenant/v1/courses", headers=_on(school, {}))
        forged = await client.get("/tenant/v1/courses", headers=_on(school, {"Authorization": "Bearer a.b.c"}))
        duplicate = await client.post(
            "/tenant/v1/users",
            json={"email": "Dup@Truong.vn", "full_name": "A", "role": "staff", "password": "0123456789"},
            headers=_on(school, bearer(settings, school.owner_id)),
        )
        again = await client.post(
            "/tenant/v1/users",
            json={"email": "dup@truong.vn", "full_name": "B", "role": "staff", "password": "0123456789"},
            headers=_on(school, bearer(settings, school.owner_id)),
        )
    assert as_admin.status_code == 403
    assert (anonymous.status_code, forged.status_code) == (401, 401)
    assert duplicate.status_code == 201
    assert again.status_code == 409
