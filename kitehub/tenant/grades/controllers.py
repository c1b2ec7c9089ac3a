"""``/tenant/v1/grades``: teachers and admins grade; all staff read."""

from __future__ import annotations

import uuid
from typing import Annotated

from litestar import Controller, delete, get, patch, post
from litestar.di import NamedDependency
from litestar.params import FromPath, FromQuery, JSONBody, QueryParameter
from sqlalchemy.ext.asyncio import AsyncSession

from kitehub.pagination import Limit, Offset
from kitehub.tenant.auth import TenantCaller
from kitehub.tenant.grades.models import Grade
from kitehub.tenant.grades.schemas import CreateGradeRequest, GradePage, GradeResponse, UpdateGradeRequest
from kitehub.tenant.grades.services import add_grade, delete_grade, one_grade, page_of_grades, rescore
from kitehub.tenant.users.models import TenantRole

TEACHING = (TenantRole.ADMIN, TenantRole.TEACHER)


def _view(grade: Grade) -> GradeResponse:
    return GradeResponse.model_validate(grade, from_attributes=True)


class GradeController(Controller):
    path = "/grades"
    tags = ["tenant"]  # noqa: RUF012 - Litestar declares it as an instance attribute

    @post(summary="Grade an enrolled student's assessment (teachers, admins)", status_code=201)
    async def create(
        self,
        data: JSONBody[CreateGradeRequest],
        tenant_caller: NamedDependency[TenantCaller],
        tenant_session: NamedDependency[AsyncSession],
    ) -> GradeResponse:
        tenant_caller.require(*TEACHING)
        return _view(await add_grade(tenant_session, data, tenant_caller.user_id))

    @get(summary="Grades, by student or course")
    async def list_all(
        self,
        tenant_session: NamedDependency[AsyncSession],
        student_id: FromQuery[uuid.UUID | None] = None,
        course_id: FromQuery[uuid.UUID | None] = None,
        sort: Annotated[str | None, QueryParameter(max_length=20, description="graded_at, score, assessment")] = None,
        limit: Limit = 50,
        offset: Offset = 0,
    ) -> GradePage:
        rows, total = await page_of_grades(tenant_session, student_id=student_id, course_id=course_id, sort=sort,
                                           limit=limit, offset=offset)  # fmt: skip
        return GradePage(items=[_view(row) for row in rows], total=total, limit=limit, offset=offset)

    @get("/{grade_id:uuid}", summary="One grade")
    async def get_one(
        self, grade_id: FromPath[uuid.UUID], tenant_session: NamedDependency[AsyncSession]
    ) -> GradeResponse:
        return _view(await one_grade(tenant_session, grade_id))

    @patch("/{grade_id:uuid}", summary="Change a score (teachers, admins)")
    async def update(
        self,
        grade_id: FromPath[uuid.UUID],
        data: JSONBody[UpdateGradeRequest],
        tenant_caller: NamedDependency[TenantCaller],
        tenant_session: NamedDependency[AsyncSession],
    ) -> GradeResponse:
        tenant_caller.require(*TEACHING)
        grade = await one_grade(tenant_session, grade_id, for_update=True)
        return _view(await rescore(tenant_session, grade, data.score, tenant_caller.user_id))

    @delete("/{grade_id:uuid}", summary="Remove a grade (teachers, admins)", status_code=204)
    async def remove(
        self,
        grade_id: FromPath[uuid.UUID],
        tenant_caller: NamedDependency[TenantCaller],
        tenant_session: NamedDependency[AsyncSession],
    ) -> None:
        tenant_caller.require(*TEACHING)
        await delete_grade(tenant_session, await one_grade(tenant_session, grade_id, for_update=True))
