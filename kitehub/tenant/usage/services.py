"""What a school holds, counted in its own database (live rows only): compared with tier limits."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from kitehub.tenant.courses.models import Course
from kitehub.tenant.media.models import MediaFile
from kitehub.tenant.students.models import Student


@dataclass(frozen=True, slots=True)
class TenantCounts:
    students: int
    courses: int


async def count_limited_rows(session: AsyncSession) -> TenantCounts:
    students = await session.scalar(select(func.count()).select_from(Student).where(Student.deleted_at.is_(None)))
    courses = await session.scalar(select(func.count()).select_from(Course).where(Course.deleted_at.is_(None)))
    return TenantCounts(students=int(students or 0), courses=int(courses or 0))


async def count_media_files(session: AsyncSession) -> int:
    return int(
        await session.scalar(select(func.count()).select_from(MediaFile).where(MediaFile.deleted_at.is_(None))) or 0
    )
