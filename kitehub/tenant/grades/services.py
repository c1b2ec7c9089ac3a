"""Grades: one score per student, course and assessment, within the course's scale (10 or 100)."""

from __future__ import annotations

import uuid
from decimal import Decimal

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from kitehub.pagination import page
from kitehub.tenant.courses.models import Course
from kitehub.tenant.grades.models import Grade
from kitehub.tenant.grades.schemas import CreateGradeRequest
from kitehub.tenant.listing import flush_or_conflict, ordering, row_or_404
from kitehub.tenant.students.models import Enrollment
from kitehub.tenant.validation import invalid, required_text

SORTS = {"graded_at": Grade.graded_at, "score": Grade.score, "assessment": Grade.assessment}


def _within_scale(score: Decimal, course: Course) -> Decimal:
    if score > course.grade_scale:
        raise invalid("score", f"the course is graded out of {course.grade_scale}")
    return score


async def add_grade(session: AsyncSession, body: CreateGradeRequest, graded_by: uuid.UUID | None) -> Grade:
    course = await session.get(Course, body.course_id, with_for_update={"read": True})  # vs a scale change
    if course is None or course.deleted_at is not None:
        raise invalid("course_id", "no such course")
    enrolled = await session.scalar(
        select(Enrollment.id).where(Enrollment.course_id == course.id, Enrollment.student_id == body.student_id)
    )
    if enrolled is None:
        raise invalid("student_id", "not enrolled in this course")
    grade = Grade(
        student_id=body.student_id,
        course_id=course.id,
        graded_by=graded_by,
        assessment=required_text("assessment", body.assessment),
        score=_within_scale(body.score, course),
    )
    session.add(grade)
    await flush_or_conflict(session, "this assessment is graded already for the student; change that grade")
    await session.refresh(grade)
    return grade


async def one_grade(session: AsyncSession, grade_id: uuid.UUID, *, for_update: bool = False) -> Grade:
    return await row_or_404(session, Grade, grade_id, "grade", for_update=for_update)


async def page_of_grades(
    session: AsyncSession,
    *,
    student_id: uuid.UUID | None,
    course_id: uuid.UUID | None,
    sort: str | None,
    limit: int,
    offset: int,
) -> tuple[list[Grade], int]:
    query = select(Grade)
    if student_id is not None:
        query = query.where(Grade.student_id == student_id)
    if course_id is not None:
        query = query.where(Grade.course_id == course_id)
    return await page(session, query, ordering(sort, SORTS, "graded_at"), limit=limit, offset=offset)


async def rescore(session: AsyncSession, grade: Grade, score: Decimal, graded_by: uuid.UUID | None) -> Grade:
    course = await session.get(Course, grade.course_id, with_for_update={"read": True})
    assert course is not None
    grade.score, grade.graded_by, grade.graded_at = _within_scale(score, course), graded_by, func.now()
    await session.flush()
    await session.refresh(grade)
    return grade


async def delete_grade(session: AsyncSession, grade: Grade) -> None:
    await session.delete(grade)
    await session.flush()
