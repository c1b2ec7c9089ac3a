"""Courses, students, enrollments, lessons, attendance and grades, as a school uses them."""

from __future__ import annotations

import asyncio

from kitehub.settings import Settings
from tests.conftest import TenantFactory
from tests.tenant.support import School, schools


async def test_courses_are_created_listed_filtered_sorted_changed_and_removed(
    make_tenant: TenantFactory, settings: Settings
) -> None:
    async with schools(settings, await make_tenant()) as [school]:
        for name, fee in (("Toan 6", 300_000), ("Van 6", 0), ("Anh van", 500_000)):
            await school.make("/courses", {"name": name, "fee": fee})

        by_name = (await school.call("GET", "/courses?sort=name")).json()
        cheap = (await school.call("GET", "/courses?max_fee=300000&sort=-fee")).json()
        search = (await school.call("GET", "/courses?q=VAN")).json()
        second_page = (await school.call("GET", "/courses?sort=name&limit=2&offset=2")).json()
        course_id = by_name["items"][0]["id"]
        changed = await school.call("PATCH", f"/courses/{course_id}", json={"fee": 450_000, "grade_scale": 100})
        removed = await school.call("DELETE", f"/courses/{course_id}")
        gone = await school.call("GET", f"/courses/{course_id}")

    assert [c["name"] for c in by_name["items"]] == ["Anh van", "Toan 6", "Van 6"]
    assert by_name["total"] == 3
    assert [c["name"] for c in cheap["items"]] == ["Toan 6", "Van 6"]
    assert {c["name"] for c in search["items"]} == {"Van 6", "Anh van"}
    assert [c["name"] for c in second_page["items"]] == ["Van 6"]
    assert (changed.status_code, changed.json()["fee"], changed.json()["grade_scale"]) == (200, 450_000, 100)
    assert (removed.status_code, gone.status_code) == (204, 404)


async def test_bad_input_gets_problem_details_never_a_500(make_tenant: TenantFactory, settings: Settings) -> None:
    async with schools(settings, await make_tenant()) as [school]:
        course = await school.make("/courses", {"name": "Toan"})
        cases = [
            ("POST", "/courses", {"name": "   "}),
            ("POST", "/courses", {"name": "x", "fee": -1}),
            ("POST", "/courses", {"name": "x", "grade_scale": 7}),
            ("POST", "/courses", {"name": "x", "teacher": "me"}),
            ("POST", "/students", {"full_name": "A", "email": "not-an-email"}),
            ("POST", "/students", {"full_name": "A", "date_of_birth": "2999-01-01"}),
            ("POST", "/students", {"full_name": "A", "phone": "call me"}),
            ("POST", "/enrollments", {"student_id": "00000000-0000-0000-0000-000000000000", "course_id": course["id"]}),
            ("POST", f"/courses/{course['id']}/lessons", {"scheduled_at": "2026-12-01T08:00:00"}),
            (
                "POST",
                f"/courses/{course['id']}/lessons",
                {"scheduled_at": "2026-12-01T08:00:00Z", "duration_minutes": 0},
            ),
            ("GET", "/courses?sort=password", None),
            ("GET", "/courses?limit=1000", None),
        ]
        for method, path, body in cases:
            response = (
                await school.call(method, path, json=body) if body is not None else await school.call(method, path)
            )
            assert response.status_code in (400, 422), (path, body, response.text)
            assert response.headers["content-type"].startswith("application/problem+json")
        assert (await school.call("GET", "/courses/not-a-uuid")).status_code in (400, 404)


async def test_the_same_ids_and_emails_in_two_schools_never_cross(
    make_tenant: TenantFactory, settings: Settings
) -> None:
    async with schools(settings, await make_tenant(), await make_tenant()) as [school_a, school_b]:
        in_a = await school_a.make("/students", {"full_name": "Nguyen An", "email": "an@nha.vn"})
        in_b = await school_b.make("/students", {"full_name": "Tran An", "email": "an@nha.vn"})  # same address: fine
        again_in_a = await school_a.call("POST", "/students", json={"full_name": "Le An", "email": "AN@nha.vn"})
        a_from_b = await school_b.call("GET", f"/students/{in_a['id']}")
        patch_from_b = await school_b.call("PATCH", f"/students/{in_a['id']}", json={"full_name": "X"})
        list_b = (await school_b.call("GET", "/students")).json()

    assert again_in_a.status_code == 409
    assert (a_from_b.status_code, patch_from_b.status_code) == (404, 404)
    assert [s["id"] for s in list_b["items"]] == [in_b["id"]]


async def _enrolled(school: School, fee: int = 0) -> tuple[dict[str, object], dict[str, object], dict[str, object]]:
    course = await school.make("/courses", {"name": "Toan", "fee": fee})
    student = await school.make("/students", {"full_name": "Pham Binh"})
    enrollment = await school.make("/enrollments", {"student_id": student["id"], "course_id": course["id"]})
    return course, student, enrollment


async def test_enrollments_are_once_per_student_and_course(make_tenant: TenantFactory, settings: Settings) -> None:
    async with schools(settings, await make_tenant()) as [school]:
        course, student, free = await _enrolled(school)
        paid_course = await school.make("/courses", {"name": "Anh", "fee": 800_000})
        pending = await school.make("/enrollments", {"student_id": student["id"], "course_id": paid_course["id"]})
        twice = await school.call("POST", "/enrollments", json={"student_id": student["id"], "course_id": course["id"]})
        by_course = (await school.call("GET", f"/enrollments?course_id={course['id']}")).json()
        completed = await school.call("PATCH", f"/enrollments/{free['id']}", json={"status": "COMPLETED"})
        reopened = await school.call("PATCH", f"/enrollments/{free['id']}", json={"status": "CANCELLED"})

    assert (free["status"], pending["status"]) == ("ACTIVE", "PENDING")
    assert twice.status_code == 409
    assert [e["id"] for e in by_course["items"]] == [free["id"]]
    assert completed.json()["status"] == "COMPLETED"
    assert reopened.status_code == 409


def _marks(student: dict[str, object], status: str) -> dict[str, object]:
    return {"records": [{"student_id": student["id"], "status": status}]}


async def test_teachers_schedule_lessons_and_mark_attendance(make_tenant: TenantFactory, settings: Settings) -> None:
    async with schools(settings, await make_tenant()) as [school]:
        course, student, _ = await _enrolled(school)
        outsider = await school.make("/students", {"full_name": "Khong hoc"})
        teacher = await school.staff("teacher", "thay@truong.vn")
        staff = await school.staff("staff", "vanphong@truong.vn")
        new_lesson = {"title": "Bai 1", "scheduled_at": "2026-12-01T08:00:00+07:00"}
        lesson = (
            await school.call("POST", f"/courses/{course['id']}/lessons", headers=teacher, json=new_lesson)
        ).json()
        path = f"/lessons/{lesson['id']}/attendance"

        first = await school.call("PUT", path, headers=teacher, json=_marks(student, "late"))
        again = await school.call("PUT", path, headers=teacher, json=_marks(student, "present"))
        stranger = await school.call("PUT", path, headers=teacher, json=_marks(outsider, "present"))
        by_staff = await school.call("PUT", path, headers=staff, json=_marks(student, "absent"))
        sheet = (await school.call("GET", path, headers=staff)).json()

    assert lesson["scheduled_at"].startswith("2026-12-01T01:00:00")  # stored in UTC
    assert first.status_code == 200, first.text
    assert again.json()["records"][0]["status"] == "present"
    assert stranger.status_code == 422
    assert by_staff.status_code == 403
    assert [(r["student_id"], r["status"]) for r in sheet["records"]] == [(student["id"], "present")]


async def test_grades_fit_the_course_scale_once_per_assessment(make_tenant: TenantFactory, settings: Settings) -> None:
    async with schools(settings, await make_tenant()) as [school]:
        course, student, _ = await _enrolled(school)
        grade = {"student_id": student["id"], "course_id": course["id"], "assessment": "Giua ky"}

        too_high = await school.call("POST", "/grades", json={**grade, "score": 10.5})
        ok = await school.call("POST", "/grades", json={**grade, "score": 8.5})
        twice = await school.call("POST", "/grades", json={**grade, "score": 9})
        rescored = await school.call("PATCH", f"/grades/{ok.json()['id']}", json={"score": 9.25})
        narrower = await school.call("PATCH", f"/courses/{course['id']}", json={"grade_scale": 10})
        listed = (await school.call("GET", f"/grades?student_id={student['id']}")).json()

    assert too_high.status_code == 422
    assert ok.status_code == 201
    assert twice.status_code == 409
    assert rescored.json()["score"] in ("9.25", 9.25)
    assert narrower.status_code == 200  # unchanged scale: fine
    assert listed["total"] == 1


async def test_concurrent_creates_at_the_limit_store_exactly_the_limit(
    make_tenant: TenantFactory, settings: Settings
) -> None:
    async with schools(settings, await make_tenant(tier="BASIC")) as [school]:  # max_students 50, max_courses 10
        students = await asyncio.gather(
            *(school.call("POST", "/students", json={"full_name": f"Hoc sinh {n}"}) for n in range(60))
        )
        courses = await asyncio.gather(*(school.call("POST", "/courses", json={"name": f"Lop {n}"}) for n in range(14)))
        listed = (await school.call("GET", "/students?limit=200")).json()

    assert sorted(r.status_code for r in students) == [201] * 50 + [409] * 10
    refused = next(r for r in students if r.status_code == 409)
    assert refused.json()["limit"] == "max_students"
    assert refused.json()["allowed"] == 50
    assert listed["total"] == 50
    assert sorted(r.status_code for r in courses) == [201] * 10 + [409] * 4
