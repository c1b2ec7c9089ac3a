"""Students of the school, within the tier's ``max_students``; e-mail unique among live students."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

from sqlalchemy import func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from kitehub.pagination import page
from kitehub.tenant.limits import check_limit
from kitehub.tenant.listing import flush_or_conflict, ordering, row_or_404
from kitehub.tenant.students.models import Student
from kitehub.tenant.students.schemas import CreateStudentRequest, UpdateStudentRequest
from kitehub.tenant.validation import optional_email, optional_phone, past_date, required_text

SORTS = {"full_name": Student.full_name, "email": Student.email, "created_at": Student.created_at}


async def _flush(session: AsyncSession) -> None:
    await flush_or_conflict(session, "a student with this e-mail address exists", field="email")


async def create_student(session: AsyncSession, body: CreateStudentRequest) -> Student:
    student = Student(
        full_name=required_text("full_name", body.full_name),
        email=optional_email(body.email),
        phone=optional_phone(body.phone),
        date_of_birth=past_date("date_of_birth", body.date_of_birth),
    )
    await check_limit(session, "max_students", Student.deleted_at)
    session.add(student)
    await _flush(session)
    await session.refresh(student)
    return student


async def live_student(session: AsyncSession, student_id: uuid.UUID, *, for_update: bool = False) -> Student:
    return await row_or_404(session, Student, student_id, "student", for_update=for_update)


async def page_of_students(
    session: AsyncSession, *, search: str | None, sort: str | None, limit: int, offset: int
) -> tuple[list[Student], int]:
    query = select(Student).where(Student.deleted_at.is_(None))
    if search:
        pattern = f"%{search.strip().lower()}%"
        query = query.where(or_(func.lower(Student.full_name).like(pattern), Student.email.like(pattern),
                                Student.phone.like(pattern)))  # fmt: skip
    return await page(session, query, ordering(sort, SORTS, "created_at"), limit=limit, offset=offset)


async def update_student(session: AsyncSession, student: Student, body: UpdateStudentRequest) -> Student:
    fields = body.model_fields_set
    if "full_name" in fields and body.full_name is not None:
        student.full_name = required_text("full_name", body.full_name)
    if "email" in fields:
        student.email = optional_email(body.email)
    if "phone" in fields:
        student.phone = optional_phone(body.phone)
    if "date_of_birth" in fields:
        student.date_of_birth = past_date("date_of_birth", body.date_of_birth)
    await _flush(session)
    await session.refresh(student)
    return student


async def delete_student(session: AsyncSession, student: Student) -> None:
    """Soft: attendance and grades keep their student; the seat under the limit is freed."""
    student.deleted_at = datetime.now(UTC)
    await session.flush()
