"""Lessons of a course, and who attended them (marked by teachers, in bulk, idempotently)."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from kitehub.pagination import page
from kitehub.tenant.attendance.models import AttendanceRecord, AttendanceStatus
from kitehub.tenant.courses.models import Lesson
from kitehub.tenant.lessons.schemas import AttendanceMark, CreateLessonRequest, UpdateLessonRequest
from kitehub.tenant.listing import ordering, row_or_404
from kitehub.tenant.students.models import Enrollment, EnrollmentStatus
from kitehub.tenant.validation import invalid

SORTS = {"scheduled_at": Lesson.scheduled_at, "created_at": Lesson.created_at}
ATTENDING = (EnrollmentStatus.PENDING, EnrollmentStatus.ACTIVE, EnrollmentStatus.COMPLETED)


async def add_lesson(session: AsyncSession, course_id: uuid.UUID, body: CreateLessonRequest) -> Lesson:
    lesson = Lesson(course_id=course_id, title=body.title, scheduled_at=body.scheduled_at,
                    duration_minutes=body.duration_minutes)  # fmt: skip
    session.add(lesson)
    await session.flush()
    await session.refresh(lesson)
    return lesson


async def one_lesson(session: AsyncSession, lesson_id: uuid.UUID, *, for_update: bool = False) -> Lesson:
    return await row_or_404(session, Lesson, lesson_id, "lesson", for_update=for_update)


async def page_of_lessons(
    session: AsyncSession,
    course_id: uuid.UUID,
    *,
    since: datetime | None,
    until: datetime | None,
    sort: str | None,
    limit: int,
    offset: int,
) -> tuple[list[Lesson], int]:
    query = select(Lesson).where(Lesson.course_id == course_id)
    if since is not None:
        query = query.where(Lesson.scheduled_at >= since)
    if until is not None:
        query = query.where(Lesson.scheduled_at < until)
    return await page(session, query, ordering(sort, SORTS, "scheduled_at"), limit=limit, offset=offset)


async def update_lesson(session: AsyncSession, lesson: Lesson, body: UpdateLessonRequest) -> Lesson:
    fields = body.model_fields_set
    if "title" in fields:
        lesson.title = body.title
    if "scheduled_at" in fields and body.scheduled_at is not None:
        lesson.scheduled_at = body.scheduled_at
    if "duration_minutes" in fields and body.duration_minutes is not None:
        lesson.duration_minutes = body.duration_minutes
    await session.flush()
    await session.refresh(lesson)
    return lesson


async def delete_lesson(session: AsyncSession, lesson: Lesson) -> None:
    await session.delete(lesson)  # its attendance goes with it (ON DELETE CASCADE)
    await session.flush()


async def mark_attendance(
    session: AsyncSession, lesson: Lesson, marks: list[AttendanceMark], recorded_by: uuid.UUID | None
) -> list[AttendanceRecord]:
    """Insert or replace one mark per student; only students enrolled in the course count."""
    students = [mark.student_id for mark in marks]
    if len(set(students)) != len(students):
        raise invalid("records", "a student appears twice")
    enrolled = set(
        await session.scalars(
            select(Enrollment.student_id).where(
                Enrollment.course_id == lesson.course_id,
                Enrollment.student_id.in_(students),
                Enrollment.status.in_(ATTENDING),
            )
        )
    )
    strangers = [str(student) for student in students if student not in enrolled]
    if strangers:
        raise invalid("records", f"not enrolled in this course: {', '.join(strangers)}")
    statement = insert(AttendanceRecord).values(
        [{"id": uuid.uuid4(), "lesson_id": lesson.id, "student_id": mark.student_id,
          "status": AttendanceStatus(mark.status), "note": mark.note, "recorded_by": recorded_by} for mark in marks]
    )  # fmt: skip
    await session.execute(
        statement.on_conflict_do_update(
            index_elements=["lesson_id", "student_id"],
            set_={
                "status": statement.excluded.status,
                "note": statement.excluded.note,
                "recorded_by": statement.excluded.recorded_by,
                "recorded_at": statement.excluded.recorded_at,
            },
        )
    )
    return await attendance_of(session, lesson)


async def attendance_of(session: AsyncSession, lesson: Lesson) -> list[AttendanceRecord]:
    return list(
        await session.scalars(
            select(AttendanceRecord)
            .where(AttendanceRecord.lesson_id == lesson.id)
            .order_by(AttendanceRecord.student_id)
            .execution_options(populate_existing=True)
        )
    )
