"""A new password, role or deactivation ends a staff member's sessions at once, and every change to
a staff account is in the school's own audit trail (read by its admins only, never a secret)."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy.engine import URL
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from kitehub.provisioning.fleet import FleetOptions, FleetRunner
from kitehub.provisioning.vault import Vault
from kitehub.settings import Settings
from tests.conftest import TenantFactory
from tests.support import connect
from tests.tenant.support import School, schools

PASSWORD = "mat-khau-dai"  # the one School.staff gives
AGENT = {"User-Agent": "truong-admin-app/2.1"}


async def _login(school: School, email: str, password: str = PASSWORD) -> dict[str, str]:
    login = await school.call("POST", "/auth/login", headers={}, json={"email": email, "password": password})
    assert login.status_code == 200, login.text
    return {"Authorization": f"Bearer {login.json()['access_token']}"}


async def _user_id(school: School, email: str) -> str:
    listed = await school.call("GET", "/users", params={"q": email})
    assert listed.status_code == 200, listed.text
    (user,) = listed.json()["items"]
    return str(user["id"])


async def _audit(school: School, headers: dict[str, str] | None = None, **params: Any) -> Any:
    return await school.call("GET", "/audit-log", headers=headers, params=params)


@pytest.mark.parametrize(
    ("change", "password_after"),
    [
        ({"password": "mot-mat-khau-moi"}, "mot-mat-khau-moi"),
        ({"role": "staff"}, PASSWORD),
        ({"is_active": False}, None),  # then reactivated: the old token stays dead
    ],
    ids=["password", "role", "deactivation"],
)
async def test_an_admins_change_revokes_the_users_tokens_at_once(
    make_tenant: TenantFactory, settings: Settings, change: dict[str, Any], password_after: str | None
) -> None:
    async with schools(settings, await make_tenant()) as (school,):
        teacher = await school.staff("teacher", "thay.binh@truong.vn")
        other = await school.staff("teacher", "co.thu@truong.vn")
        user_id = await _user_id(school, "thay.binh@truong.vn")
        assert (await school.call("GET", "/courses", headers=teacher)).status_code == 200

        changed = await school.call("PATCH", f"/users/{user_id}", json=change)
        assert changed.status_code == 200, changed.text
        if password_after is None:
            reactivated = await school.call("PATCH", f"/users/{user_id}", json={"is_active": True})
            assert reactivated.status_code == 200, reactivated.text
        refused = await school.call("GET", "/courses", headers=teacher)
        fresh = await _login(school, "thay.binh@truong.vn", password_after or PASSWORD)
        served = await school.call("GET", f"/users/{user_id}", headers=fresh)
        untouched = await school.call("GET", "/courses", headers=other)

    assert refused.status_code == 401, refused.text
    assert "revoked" in refused.json()["detail"]
    assert served.status_code == 200, served.text
    assert served.json()["role"] == change.get("role", "teacher")
    assert untouched.status_code == 200  # only that user's tokens


async def test_a_rename_keeps_the_users_tokens(make_tenant: TenantFactory, settings: Settings) -> None:
    async with schools(settings, await make_tenant()) as (school,):
        teacher = await school.staff("teacher", "thay.binh@truong.vn")
        user_id = await _user_id(school, "thay.binh@truong.vn")
        renamed = await school.call("PATCH", f"/users/{user_id}", json={"full_name": "Thay Binh Nguyen"})
        assert renamed.status_code == 200, renamed.text
        still = await school.call("GET", "/courses", headers=teacher)
    assert still.status_code == 200


async def test_staff_changes_are_audited_in_the_school_with_who_and_from_where(
    make_tenant: TenantFactory, settings: Settings, server_url: URL
) -> None:
    tenant = await make_tenant()
    async with schools(settings, tenant) as (school,):
        admin = {**await school.staff("admin", "hieu.truong@truong.vn"), **AGENT}
        admin_id = await _user_id(school, "hieu.truong@truong.vn")
        created = await school.call(
            "POST", "/users", headers=admin,
            json={"email": "thay.binh@truong.vn", "full_name": "Thay Binh", "role": "teacher", "password": PASSWORD},
        )  # fmt: skip
        assert created.status_code == 201, created.text
        target = created.json()["id"]
        teacher = await _login(school, "thay.binh@truong.vn")
        staff = await school.staff("staff", "co.thu@truong.vn")
        other_teacher = await school.staff("teacher", "co.lan@truong.vn")
        for change in ({"role": "staff"}, {"password": "mot-mat-khau-moi"}, {"is_active": False}):
            response = await school.call("PATCH", f"/users/{target}", headers=admin, json=change)
            assert response.status_code == 200, response.text

        by_admin = await _audit(school, admin, actor=admin_id)
        by_owner = await _audit(school)  # the owner is the school's admin too
        by_changed = await _audit(school, teacher)
        by_teacher = await _audit(school, other_teacher)
        by_staff = await _audit(school, staff)

    assert by_changed.status_code == 401  # that token died with the role change
    assert by_teacher.status_code == 403
    assert by_staff.status_code == 403
    assert by_admin.status_code == 200, by_admin.text
    trail = by_admin.json()
    assert trail["total"] == 4
    assert [entry["action"] for entry in trail["items"]] == [
        "user.deactivate", "user.password_change", "user.role_change", "user.create",
    ]  # fmt: skip
    for entry in trail["items"]:
        assert entry["target_user_id"] == target
        assert (entry["actor_role"], entry["actor_user_id"], entry["actor_email"]) == (
            "admin", admin_id, "hieu.truong@truong.vn",
        )  # fmt: skip
        assert entry["ip"] == "127.0.0.1"
        assert entry["user_agent"] == AGENT["User-Agent"]
    deactivated, password, role, create = trail["items"]
    assert (role["before"], role["after"]) == ({"role": "teacher"}, {"role": "staff"})
    assert (deactivated["before"], deactivated["after"]) == ({"is_active": True}, {"is_active": False})
    assert (password["before"], password["after"]) == (None, None)
    assert create["after"] == {"email": "thay.binh@truong.vn", "full_name": "Thay Binh", "role": "teacher",
                               "is_active": True}  # fmt: skip

    owner_view = by_owner.json()
    assert owner_view["total"] == 7  # the owner created three staff, the admin changed one
    owner_rows = [entry for entry in owner_view["items"] if entry["actor_role"] == "owner"]
    assert len(owner_rows) == 3
    assert all(entry["actor_account_id"] == str(tenant.owner_id) for entry in owner_rows)

    assert tenant.database_name is not None
    async with connect(server_url.set(database=tenant.database_name)) as conn:
        hashes = [row["password_hash"] for row in await conn.fetch("SELECT password_hash FROM users")]
        stored = await conn.fetchval("SELECT string_agg(audit_log::text, ' ') FROM audit_log")
    assert len(hashes) == 4
    assert all(value not in stored for value in hashes)
    for secret in (PASSWORD, "mot-mat-khau-moi", "password_hash"):
        assert secret not in stored
        assert secret not in by_owner.text


async def test_the_audit_log_filters_and_pages(make_tenant: TenantFactory, settings: Settings) -> None:
    async with schools(settings, await make_tenant()) as (school,):
        await school.staff("teacher", "thay.binh@truong.vn")
        await school.staff("teacher", "co.thu@truong.vn")
        target = await _user_id(school, "co.thu@truong.vn")
        await asyncio.sleep(0.01)
        middle = datetime.now(UTC)
        assert (await school.call("PATCH", f"/users/{target}", json={"role": "staff"})).status_code == 200

        everything = await _audit(school)
        first_page = await _audit(school, limit=1)
        second_page = await _audit(school, limit=1, offset=1)
        creations = await _audit(school, action="user.create")
        about_target = await _audit(school, target=target)
        since = await _audit(school, since=middle.isoformat())
        until = await _audit(school, until=middle.isoformat())
        future = await _audit(school, since=(middle + timedelta(days=1)).isoformat())
        bad = await _audit(school, actor="not-a-uuid")
        too_big = await _audit(school, limit=1000)
        anonymous = await _audit(school, {})

    assert everything.json()["total"] == 3
    assert [page.json()["items"][0]["action"] for page in (first_page, second_page)] == ["user.role_change",
                                                                                         "user.create"]  # fmt: skip
    assert first_page.json()["total"] == 3
    assert creations.json()["total"] == 2
    assert [entry["action"] for entry in about_target.json()["items"]] == ["user.role_change", "user.create"]
    assert [entry["action"] for entry in since.json()["items"]] == ["user.role_change"]
    assert until.json()["total"] == 2
    assert future.json()["total"] == 0
    assert bad.status_code == 422
    assert too_big.status_code == 422
    assert anonymous.status_code == 401


async def test_a_school_from_before_the_audit_waits_for_its_migration_then_works(
    make_tenant: TenantFactory,
    settings: Settings,
    platform_sessions: async_sessionmaker[AsyncSession],
    vault: Vault,
) -> None:
    """A tenant at t0001 (no token generation, no audit table) is answered 503 until
    ``migrate tenants`` moves it; its staff's tokens then work and changes are audited."""
    tenant = await make_tenant()
    async with schools(settings, tenant) as (school,):
        teacher = await school.staff("teacher", "thay.binh@truong.vn")  # a token from before the downgrade
        back = await FleetRunner(platform_sessions, vault).run(FleetOptions(target="t0001", force=True))
        assert back.ok
        await asyncio.sleep(0.3)  # the instance's change is announced to the router (NOTIFY)
        waiting = await school.call("GET", "/courses", headers=teacher)
        assert (await FleetRunner(platform_sessions, vault).run(FleetOptions())).ok
        await asyncio.sleep(0.3)
        served = await school.call("GET", "/courses", headers=teacher)
        user_id = await _user_id(school, "thay.binh@truong.vn")
        changed = await school.call("PATCH", f"/users/{user_id}", json={"password": "mot-mat-khau-moi"})
        refused = await school.call("GET", "/courses", headers=teacher)
        trail = await _audit(school, action="user.password_change")

    assert waiting.status_code == 503
    assert waiting.headers["retry-after"]
    assert served.status_code == 200, served.text
    assert changed.status_code == 200, changed.text
    assert refused.status_code == 401
    assert trail.json()["total"] == 1
