"""``/tenant/v1/students``: read by all staff, managed by tenant admins."""

from __future__ import annotations

import uuid
from typing import Annotated

from litestar import Controller, delete, get, patch, post
from litestar.di import NamedDependency
from litestar.params import FromPath, JSONBody, QueryParameter
from sqlalchemy.ext.asyncio import AsyncSession

from kitehub.pagination import Limit, Offset
from kitehub.tenant.auth import TenantCaller
from kitehub.tenant.students.models import Student
from kitehub.tenant.students.schemas import (
    CreateStudentRequest,
    StudentPage,
    StudentResponse,
    UpdateStudentRequest,
)
from kitehub.tenant.students.services import (
    create_student,
    delete_student,
    live_student,
    page_of_students,
    update_student,
)
from kitehub.tenant.users.models import TenantRole

Search = Annotated[str | None, QueryParameter(max_length=100, description="name, e-mail or phone contains")]
Sort = Annotated[str | None, QueryParameter(max_length=20, description="full_name, email, created_at; '-' = desc")]


def _view(student: Student) -> StudentResponse:
    return StudentResponse.model_validate(student, from_attributes=True)


class StudentController(Controller):
    path = "/students"
    tags = ["tenant"]  # noqa: RUF012 - Litestar declares it as an instance attribute

    @post(summary="Add a student (counted against the tier's max_students)", status_code=201)
    async def create(
        self,
        data: JSONBody[CreateStudentRequest],
        tenant_caller: NamedDependency[TenantCaller],
        tenant_session: NamedDependency[AsyncSession],
    ) -> StudentResponse:
        tenant_caller.require(TenantRole.ADMIN)
        return _view(await create_student(tenant_session, data))

    @get(summary="The school's students")
    async def list_all(
        self,
        tenant_session: NamedDependency[AsyncSession],
        q: Search = None,
        sort: Sort = None,
        limit: Limit = 50,
        offset: Offset = 0,
    ) -> StudentPage:
        rows, total = await page_of_students(tenant_session, search=q, sort=sort, limit=limit, offset=offset)
        return StudentPage(items=[_view(row) for row in rows], total=total, limit=limit, offset=offset)

    @get("/{student_id:uuid}", summary="One student")
    async def get_one(
        self, student_id: FromPath[uuid.UUID], tenant_session: NamedDependency[AsyncSession]
    ) -> StudentResponse:
        return _view(await live_student(tenant_session, student_id))

    @patch("/{student_id:uuid}", summary="Change a student's details")
    async def update(
        self,
        student_id: FromPath[uuid.UUID],
        data: JSONBody[UpdateStudentRequest],
        tenant_caller: NamedDependency[TenantCaller],
        tenant_session: NamedDependency[AsyncSession],
    ) -> StudentResponse:
        tenant_caller.require(TenantRole.ADMIN)
        student = await live_student(tenant_session, student_id, for_update=True)
        return _view(await update_student(tenant_session, student, data))

    @delete("/{student_id:uuid}", summary="Remove a student (their records stay)", status_code=204)
    async def remove(
        self,
        student_id: FromPath[uuid.UUID],
        tenant_caller: NamedDependency[TenantCaller],
        tenant_session: NamedDependency[AsyncSession],
    ) -> None:
        tenant_caller.require(TenantRole.ADMIN)
        await delete_student(tenant_session, await live_student(tenant_session, student_id, for_update=True))
