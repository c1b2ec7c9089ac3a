"""``/tenant/v1/courses``: read by all staff, managed by tenant admins."""

from __future__ import annotations

import uuid
from typing import Annotated

from litestar import Controller, delete, get, patch, post
from litestar.di import NamedDependency
from litestar.params import FromPath, JSONBody, QueryParameter
from sqlalchemy.ext.asyncio import AsyncSession

from kitehub.pagination import Limit, Offset
from kitehub.tenant.auth import TenantCaller
from kitehub.tenant.courses.models import Course
from kitehub.tenant.courses.schemas import CoursePage, CourseResponse, CreateCourseRequest, UpdateCourseRequest
from kitehub.tenant.courses.services import create_course, delete_course, live_course, page_of_courses, update_course
from kitehub.tenant.users.models import TenantRole


def _view(course: Course) -> CourseResponse:
    return CourseResponse.model_validate(course, from_attributes=True)


class CourseController(Controller):
    path = "/courses"
    tags = ["tenant"]  # noqa: RUF012 - Litestar declares it as an instance attribute

    @post(summary="Add a course (counted against the tier's max_courses)", status_code=201)
    async def create(
        self,
        data: JSONBody[CreateCourseRequest],
        tenant_caller: NamedDependency[TenantCaller],
        tenant_session: NamedDependency[AsyncSession],
    ) -> CourseResponse:
        tenant_caller.require(TenantRole.ADMIN)
        return _view(await create_course(tenant_session, data))

    @get(summary="The school's courses")
    async def list_all(
        self,
        tenant_session: NamedDependency[AsyncSession],
        q: Annotated[str | None, QueryParameter(max_length=100, description="name contains")] = None,
        max_fee: Annotated[int | None, QueryParameter(ge=0, lt=10**12)] = None,
        sort: Annotated[str | None, QueryParameter(max_length=20, description="name, fee, created_at")] = None,
        limit: Limit = 50,
        offset: Offset = 0,
    ) -> CoursePage:
        rows, total = await page_of_courses(tenant_session, search=q, max_fee=max_fee, sort=sort, limit=limit,
                                            offset=offset)  # fmt: skip
        return CoursePage(items=[_view(row) for row in rows], total=total, limit=limit, offset=offset)

    @get("/{course_id:uuid}", summary="One course")
    async def get_one(
        self, course_id: FromPath[uuid.UUID], tenant_session: NamedDependency[AsyncSession]
    ) -> CourseResponse:
        return _view(await live_course(tenant_session, course_id))

    @patch("/{course_id:uuid}", summary="Change a course")
    async def update(
        self,
        course_id: FromPath[uuid.UUID],
        data: JSONBody[UpdateCourseRequest],
        tenant_caller: NamedDependency[TenantCaller],
        tenant_session: NamedDependency[AsyncSession],
    ) -> CourseResponse:
        tenant_caller.require(TenantRole.ADMIN)
        course = await live_course(tenant_session, course_id, for_update=True)
        return _view(await update_course(tenant_session, course, data))

    @delete("/{course_id:uuid}", summary="Remove a course (its records stay)", status_code=204)
    async def remove(
        self,
        course_id: FromPath[uuid.UUID],
        tenant_caller: NamedDependency[TenantCaller],
        tenant_session: NamedDependency[AsyncSession],
    ) -> None:
        tenant_caller.require(TenantRole.ADMIN)
        await delete_course(tenant_session, await live_course(tenant_session, course_id, for_update=True))
