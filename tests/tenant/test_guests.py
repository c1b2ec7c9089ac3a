"""Guest analytics: anonymous visitors recorded (rate-limited), summarised for the school, kept 90 days."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

from sqlalchemy.engine import URL
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from kitehub.provisioning.vault import Vault
from kitehub.settings import Settings
from kitehub.tenant.guests.jobs import purge_everywhere
from tests.conftest import TenantFactory, tenant_password, tenant_url
from tests.support import connect
from tests.tenant.support import School, schools


async def _visit(school: School, source: str, device: str) -> str:
    started = await school.call("POST", "/guest/sessions", headers={}, json={"source": source, "device_type": device})
    assert started.status_code == 201, started.text
    session_id: str = started.json()["session_id"]
    return session_id


async def _event(school: School, session_id: str, event_type: str, **extra: object) -> int:
    response = await school.call("POST", "/guest/events", headers={},
                                 json={"session_id": session_id, "event_type": event_type, **extra})  # fmt: skip
    status: int = response.status_code
    return status


async def test_visits_are_recorded_and_summarised(make_tenant: TenantFactory, settings: Settings) -> None:
    async with schools(settings, await make_tenant(tier="STANDARD")) as [school]:
        toan = await school.make("/courses", {"name": "Toan"})
        van = await school.make("/courses", {"name": "Van"})
        first = await _visit(school, "Facebook", "mobile")
        second = await _visit(school, "zalo", "desktop")
        third = await _visit(school, "facebook", "mobile")
        statuses = [
            await _event(school, first, "page_view"),
            await _event(school, first, "course_view", course_id=toan["id"]),
            await _event(school, second, "course_view", course_id=toan["id"]),
            await _event(school, third, "course_view", course_id=van["id"], metadata={"scroll": 80}),
            await _event(school, third, "contact_click"),
        ]
        report = await school.call("GET", "/analytics/summary")
        teacher = await school.staff("teacher", "gv@truong.vn")
        by_teacher = await school.call("GET", "/analytics/summary", headers=teacher)
        anonymous = await school.call("GET", "/analytics/summary", headers={})

    assert statuses == [201] * 5
    assert report.status_code == 200, report.text
    body = report.json()
    assert (body["sessions"], body["events"]) == (3, 5)
    assert body["events_by_type"][0] == {"key": "course_view", "count": 3}
    assert body["top_courses"][0] == {"course_id": toan["id"], "name": "Toan", "count": 2}
    assert body["sources"] == [{"key": "facebook", "count": 2}, {"key": "zalo", "count": 1}]
    assert body["devices"] == [{"key": "mobile", "count": 2}, {"key": "desktop", "count": 1}]
    assert (by_teacher.status_code, anonymous.status_code) == (403, 401)


async def test_bad_guest_input_is_refused(make_tenant: TenantFactory, settings: Settings) -> None:
    async with schools(settings, await make_tenant(tier="STANDARD")) as [school]:
        session_id = await _visit(school, "x", "tablet")
        statuses = [
            await _event(school, session_id, "Page View"),
            await _event(school, "00000000-0000-0000-0000-000000000000", "page_view"),
            await _event(school, session_id, "course_view", course_id="00000000-0000-0000-0000-000000000000"),
            await _event(school, session_id, "page_view", metadata={"blob": "x" * 5000}),
            await _event(school, session_id, "page_view", admin=True),
        ]
        bad_device = await school.call("POST", "/guest/sessions", headers={}, json={"device_type": "fridge"})
        bad_range = await school.call("GET", "/analytics/summary?from=2026-11-01T00:00:00Z&to=2025-01-01T00:00:00Z")
    assert statuses == [422, 404, 422, 422, 422]
    assert bad_device.status_code == 422
    assert bad_range.status_code == 422


async def test_a_tier_without_engagement_has_no_guest_analytics(make_tenant: TenantFactory, settings: Settings) -> None:
    async with schools(settings, await make_tenant(tier="BASIC")) as [school]:
        started = await school.call("POST", "/guest/sessions", headers={}, json={"device_type": "mobile"})
        report = await school.call("GET", "/analytics/summary")
    assert (started.status_code, report.status_code) == (403, 403)
    assert started.json()["feature"] == "engagement"


async def test_one_address_is_slowed_down(make_tenant: TenantFactory, settings: Settings) -> None:
    async with schools(settings, await make_tenant(tier="STANDARD")) as [school]:
        answers = [
            (await school.call("POST", "/guest/sessions", headers={}, json={"device_type": "mobile"})).status_code
            for _ in range(31)
        ]
        limited = await school.call("POST", "/guest/sessions", headers={}, json={"device_type": "mobile"})
    assert answers == [201] * 30 + [429]
    assert int(limited.headers["retry-after"]) > 0


async def test_guest_data_older_than_ninety_days_is_purged(
    make_tenant: TenantFactory,
    settings: Settings,
    platform_sessions: async_sessionmaker[AsyncSession],
    vault: Vault,
    server_url: URL,
) -> None:
    tenant = await make_tenant(tier="STANDARD")
    async with schools(settings, tenant) as [school]:
        old, recent = await _visit(school, "old", "mobile"), await _visit(school, "new", "mobile")
        await _event(school, old, "page_view")
        await _event(school, recent, "page_view")
    database = tenant_url(server_url, tenant, await tenant_password(platform_sessions, vault, tenant.id))
    async with connect(database) as conn:
        await conn.execute("UPDATE guest_sessions SET started_at = now() - interval '91 days' WHERE source = 'old'")
        await conn.execute("UPDATE guest_events SET occurred_at = now() - interval '91 days' WHERE session_id = $1",
                           uuid.UUID(old))  # fmt: skip

    purged = await purge_everywhere(platform_sessions, vault, datetime.now(UTC))

    assert purged[tenant.subdomain] == (1, 1)
    async with connect(database) as conn:
        assert await conn.fetchval("SELECT count(*) FROM guest_sessions") == 1
        assert await conn.fetchval("SELECT count(*) FROM guest_events") == 1


async def test_the_nightly_job_forgets_staff_login_failures_that_no_longer_lock(
    make_tenant: TenantFactory,
    platform_sessions: async_sessionmaker[AsyncSession],
    vault: Vault,
    server_url: URL,
) -> None:
    """The school's login_attempts table keeps every address ever tried unless it is cleaned."""
    tenant = await make_tenant()
    database = tenant_url(server_url, tenant, await tenant_password(platform_sessions, vault, tenant.id))
    async with connect(database) as conn:
        await conn.execute(
            "INSERT INTO login_attempts (email, failures, locked_until, last_failure_at) VALUES"
            " ('idle@school.vn', 3, NULL, now() - interval '25 hours'),"
            " ('recent@school.vn', 2, NULL, now() - interval '1 hour'),"
            " ('locked@school.vn', 9, now() + interval '10 minutes', now() - interval '25 hours')"
        )

    await purge_everywhere(platform_sessions, vault, datetime.now(UTC))

    async with connect(database) as conn:
        kept = {row["email"] for row in await conn.fetch("SELECT email FROM login_attempts")}
    assert kept == {"recent@school.vn", "locked@school.vn"}
