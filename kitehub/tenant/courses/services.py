"""Courses of a school, within the tier's ``max_courses``."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from kitehub.errors import ConflictError
from kitehub.pagination import page
from kitehub.tenant.courses.models import Course
from kitehub.tenant.courses.schemas import CreateCourseRequest, UpdateCourseRequest
from kitehub.tenant.grades.models import Grade
from kitehub.tenant.limits import check_limit
from kitehub.tenant.listing import ordering, row_or_404
from kitehub.tenant.validation import required_text

SORTS = {"name": Course.name, "fee": Course.fee, "created_at": Course.created_at}


async def create_course(session: AsyncSession, body: CreateCourseRequest) -> Course:
    course = Course(name=required_text("name", body.name), description=body.description, fee=body.fee,
                    grade_scale=body.grade_scale)  # fmt: skip
    await check_limit(session, "max_courses", Course.deleted_at)
    session.add(course)
    await session.flush()
    await session.refresh(course)
    return course


async def live_course(session: AsyncSession, course_id: uuid.UUID, *, for_update: bool = False) -> Course:
    return await row_or_404(session, Course, course_id, "course", for_update=for_update)


async def page_of_courses(
    session: AsyncSession,
    *,
    search: str | None = None,
    max_fee: int | None = None,
    sort: str | None = None,
    limit: int,
    offset: int,
) -> tuple[list[Course], int]:
    query = select(Course).where(Course.deleted_at.is_(None))
    if search:
        query = query.where(func.lower(Course.name).like(f"%{search.strip().lower()}%"))
    if max_fee is not None:
        query = query.where(Course.fee <= max_fee)
    return await page(session, query, ordering(sort, SORTS, "created_at"), limit=limit, offset=offset)


async def update_course(session: AsyncSession, course: Course, body: UpdateCourseRequest) -> Course:
    fields = body.model_fields_set
    if "name" in fields and body.name is not None:
        course.name = required_text("name", body.name)
    if "description" in fields:
        course.description = body.description
    if "fee" in fields and body.fee is not None:
        course.fee = body.fee
    if "grade_scale" in fields and body.grade_scale is not None and body.grade_scale != course.grade_scale:
        highest = await session.scalar(select(func.max(Grade.score)).where(Grade.course_id == course.id))
        if highest is not None and highest > body.grade_scale:
            raise ConflictError(
                f"grades up to {highest} exist; they would not fit a scale of {body.grade_scale}",
                extra={"field": "grade_scale"},
            )
        course.grade_scale = body.grade_scale
    await session.flush()
    await session.refresh(course)
    return course


async def delete_course(session: AsyncSession, course: Course) -> None:
    """Soft: enrollments, lessons and grades keep their course; a seat under max_courses is freed."""
    course.deleted_at = datetime.now(UTC)
    await session.flush()
