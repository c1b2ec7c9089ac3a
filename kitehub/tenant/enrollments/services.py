"""A student in a course, once. A free course is ACTIVE at once; a paid one waits (PENDING) for its
fee, paid through an enrollment payment order. Ends as COMPLETED or CANCELLED."""

from __future__ import annotations

import uuid

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from kitehub.errors import ConflictError
from kitehub.pagination import page
from kitehub.tenant.courses.models import Course
from kitehub.tenant.listing import flush_or_conflict, ordering, row_or_404
from kitehub.tenant.students.models import Enrollment, EnrollmentStatus, Student
from kitehub.tenant.validation import invalid

E = EnrollmentStatus
SORTS = {"created_at": Enrollment.created_at, "status": Enrollment.status}
ENDINGS = {E.PENDING: {E.CANCELLED}, E.ACTIVE: {E.COMPLETED, E.CANCELLED}, E.COMPLETED: set(), E.CANCELLED: set()}


async def enroll(session: AsyncSession, student_id: uuid.UUID, course_id: uuid.UUID) -> Enrollment:
    student = await session.get(Student, student_id)
    if student is None or student.deleted_at is not None:
        raise invalid("student_id", "no such student")
    course = await session.get(Course, course_id)
    if course is None or course.deleted_at is not None:
        raise invalid("course_id", "no such course")
    enrollment = Enrollment(student_id=student_id, course_id=course_id,
                            status=E.ACTIVE if course.fee == 0 else E.PENDING)  # fmt: skip
    session.add(enrollment)
    await flush_or_conflict(session, "the student is already enrolled in this course")
    await session.refresh(enrollment)
    return enrollment


async def one_enrollment(session: AsyncSession, enrollment_id: uuid.UUID, *, for_update: bool = False) -> Enrollment:
    return await row_or_404(session, Enrollment, enrollment_id, "enrollment", for_update=for_update)


async def page_of_enrollments(
    session: AsyncSession,
    *,
    student_id: uuid.UUID | None,
    course_id: uuid.UUID | None,
    status: EnrollmentStatus | None,
    sort: str | None,
    limit: int,
    offset: int,
) -> tuple[list[Enrollment], int]:
    query = select(Enrollment)
    if student_id is not None:
        query = query.where(Enrollment.student_id == student_id)
    if course_id is not None:
        query = query.where(Enrollment.course_id == course_id)
    if status is not None:
        query = query.where(Enrollment.status == status)
    return await page(session, query, ordering(sort, SORTS, "created_at"), limit=limit, offset=offset)


async def end_enrollment(session: AsyncSession, enrollment: Enrollment, status: EnrollmentStatus) -> Enrollment:
    if status not in ENDINGS[enrollment.status]:
        raise ConflictError(f"a {enrollment.status.value} enrollment cannot become {status.value}",
                            extra={"enrollment_status": enrollment.status.value})  # fmt: skip
    enrollment.status = status
    await session.flush()
    await session.refresh(enrollment)
    return enrollment


async def delete_enrollment(session: AsyncSession, enrollment: Enrollment) -> None:
    """Only an enrollment nobody paid for goes away; a paid one is completed or cancelled instead."""
    if enrollment.paid_at is not None:
        raise ConflictError("a paid enrollment stays on record; cancel it instead")
    await session.delete(enrollment)
    await session.flush()
