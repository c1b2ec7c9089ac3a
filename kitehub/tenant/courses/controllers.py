"""``/tenant/v1/courses``: the school's courses, in its own database."""

from __future__ import annotations

from typing import Annotated

from litestar import Controller, get, post
from litestar.di import NamedDependency
from litestar.params import JSONBody, QueryParameter
from sqlalchemy.ext.asyncio import AsyncSession

from kitehub.tenant.auth import TenantCaller
from kitehub.tenant.courses.schemas import CoursePage, CourseResponse, CreateCourseRequest
from kitehub.tenant.courses.services import create_course, page_of_courses
from kitehub.tenant.users.models import TenantRole

Limit = Annotated[int, QueryParameter(ge=1, le=200)]
Offset = Annotated[int, QueryParameter(ge=0, le=1_000_000)]


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
        return CourseResponse.model_validate(await create_course(tenant_session, data), from_attributes=True)

    @get(summary="The school's courses, oldest first")
    async def list_all(
        self, tenant_session: NamedDependency[AsyncSession], limit: Limit = 50, offset: Offset = 0
    ) -> CoursePage:
        rows, total = await page_of_courses(tenant_session, limit=limit, offset=offset)
        items = [CourseResponse.model_validate(row, from_attributes=True) for row in rows]
        return CoursePage(items=items, total=total, limit=limit, offset=offset)
