"""Courses of a school, within the tier's ``max_courses``."""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from kitehub.errors import InvalidInputError
from kitehub.tenant.courses.models import Course
from kitehub.tenant.courses.schemas import CreateCourseRequest
from kitehub.tenant.limits import check_limit


async def create_course(session: AsyncSession, body: CreateCourseRequest) -> Course:
    if not body.name.strip():
        raise InvalidInputError(
            "name: blank", extra={"errors": [{"field": "name", "message": "blank", "source": "body"}]}
        )
    await check_limit(session, "max_courses", Course.deleted_at)
    course = Course(name=body.name.strip(), description=body.description, fee=body.fee, grade_scale=body.grade_scale)
    session.add(course)
    await session.flush()
    await session.refresh(course)
    return course


async def page_of_courses(session: AsyncSession, *, limit: int, offset: int) -> tuple[list[Course], int]:
    live = select(Course).where(Course.deleted_at.is_(None))
    total = await session.scalar(select(func.count()).select_from(live.subquery()))
    rows = await session.scalars(live.order_by(Course.created_at, Course.id).limit(limit).offset(offset))
    return list(rows), int(total or 0)
