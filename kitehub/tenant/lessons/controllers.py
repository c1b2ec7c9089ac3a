"""``/tenant/v1/courses/{id}/lessons``, ``/tenant/v1/lessons/{id}`` and its attendance.

Teachers and admins manage lessons and attendance; all staff read them.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated

from litestar import Controller, delete, get, patch, post, put
from litestar.di import NamedDependency
from litestar.params import FromPath, FromQuery, JSONBody, QueryParameter
from sqlalchemy.ext.asyncio import AsyncSession

from kitehub.pagination import Limit, Offset
from kitehub.tenant.attendance.models import AttendanceRecord
from kitehub.tenant.auth import TenantCaller
from kitehub.tenant.courses.models import Lesson
from kitehub.tenant.courses.services import live_course
from kitehub.tenant.lessons.schemas import (
    AttendanceRequest,
    AttendanceResponse,
    AttendanceSheet,
    CreateLessonRequest,
    LessonPage,
    LessonResponse,
    UpdateLessonRequest,
)
from kitehub.tenant.lessons.services import (
    add_lesson,
    attendance_of,
    delete_lesson,
    mark_attendance,
    one_lesson,
    page_of_lessons,
    update_lesson,
)
from kitehub.tenant.users.models import TenantRole

TEACHING = (TenantRole.ADMIN, TenantRole.TEACHER)


def _view(lesson: Lesson) -> LessonResponse:
    return LessonResponse.model_validate(lesson, from_attributes=True)


def _sheet(lesson: Lesson, records: list[AttendanceRecord]) -> AttendanceSheet:
    return AttendanceSheet(
        lesson_id=lesson.id, records=[AttendanceResponse.model_validate(r, from_attributes=True) for r in records]
    )


class CourseLessonController(Controller):
    path = "/courses/{course_id:uuid}/lessons"
    tags = ["tenant"]  # noqa: RUF012 - Litestar declares it as an instance attribute

    @post(summary="Schedule a lesson (teachers, admins)", status_code=201)
    async def create(
        self,
        course_id: FromPath[uuid.UUID],
        data: JSONBody[CreateLessonRequest],
        tenant_caller: NamedDependency[TenantCaller],
        tenant_session: NamedDependency[AsyncSession],
    ) -> LessonResponse:
        tenant_caller.require(*TEACHING)
        course = await live_course(tenant_session, course_id)
        return _view(await add_lesson(tenant_session, course.id, data))

    @get(summary="A course's lessons, by time")
    async def list_all(
        self,
        course_id: FromPath[uuid.UUID],
        tenant_session: NamedDependency[AsyncSession],
        since: FromQuery[datetime | None] = None,
        until: FromQuery[datetime | None] = None,
        sort: Annotated[str | None, QueryParameter(max_length=20, description="scheduled_at, created_at")] = None,
        limit: Limit = 50,
        offset: Offset = 0,
    ) -> LessonPage:
        course = await live_course(tenant_session, course_id)
        rows, total = await page_of_lessons(tenant_session, course.id, since=since, until=until, sort=sort,
                                            limit=limit, offset=offset)  # fmt: skip
        return LessonPage(items=[_view(row) for row in rows], total=total, limit=limit, offset=offset)


class LessonController(Controller):
    path = "/lessons/{lesson_id:uuid}"
    tags = ["tenant"]  # noqa: RUF012 - Litestar declares it as an instance attribute

    @get(summary="One lesson")
    async def get_one(
        self, lesson_id: FromPath[uuid.UUID], tenant_session: NamedDependency[AsyncSession]
    ) -> LessonResponse:
        return _view(await one_lesson(tenant_session, lesson_id))

    @patch(summary="Reschedule or rename a lesson (teachers, admins)")
    async def update(
        self,
        lesson_id: FromPath[uuid.UUID],
        data: JSONBody[UpdateLessonRequest],
        tenant_caller: NamedDependency[TenantCaller],
        tenant_session: NamedDependency[AsyncSession],
    ) -> LessonResponse:
        tenant_caller.require(*TEACHING)
        lesson = await one_lesson(tenant_session, lesson_id, for_update=True)
        return _view(await update_lesson(tenant_session, lesson, data))

    @delete(summary="Cancel a lesson and its attendance (teachers, admins)", status_code=204)
    async def remove(
        self,
        lesson_id: FromPath[uuid.UUID],
        tenant_caller: NamedDependency[TenantCaller],
        tenant_session: NamedDependency[AsyncSession],
    ) -> None:
        tenant_caller.require(*TEACHING)
        await delete_lesson(tenant_session, await one_lesson(tenant_session, lesson_id, for_update=True))

    @put("/attendance", summary="Mark attendance in bulk; marking again replaces (teachers, admins)")
    async def mark(
        self,
        lesson_id: FromPath[uuid.UUID],
        data: JSONBody[AttendanceRequest],
        tenant_caller: NamedDependency[TenantCaller],
        tenant_session: NamedDependency[AsyncSession],
    ) -> AttendanceSheet:
        tenant_caller.require(*TEACHING)
        lesson = await one_lesson(tenant_session, lesson_id, for_update=True)
        records = await mark_attendance(tenant_session, lesson, data.records, tenant_caller.user_id)
        return _sheet(lesson, records)

    @get("/attendance", summary="Who attended the lesson")
    async def attendance(
        self, lesson_id: FromPath[uuid.UUID], tenant_session: NamedDependency[AsyncSession]
    ) -> AttendanceSheet:
        lesson = await one_lesson(tenant_session, lesson_id)
        return _sheet(lesson, await attendance_of(tenant_session, lesson))
