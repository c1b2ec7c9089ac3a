"""Courses and their scheduled lessons."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import BigInteger, CheckConstraint, DateTime, ForeignKey, Index, SmallInteger, String, Text, func, text
from sqlalchemy.orm import Mapped, mapped_column

from kitehub.orm import OptimisticVersion, SoftDelete, Timestamps, UUIDPrimaryKey
from kitehub.tenant.base import TenantBase


class Course(UUIDPrimaryKey, Timestamps, SoftDelete, OptimisticVersion, TenantBase):
    __tablename__ = "courses"
    __table_args__ = (
        CheckConstraint("fee >= 0", name="fee_non_negative"),
        CheckConstraint("grade_scale IN (10, 100)", name="grade_scale_allowed"),
        CheckConstraint("length(btrim(name)) > 0", name="name_not_blank"),
        Index("ix_courses_lower_name", func.lower(text("name"))),
        Index("ix_courses_created_at", "created_at"),
    )

    name: Mapped[str] = mapped_column(String(200))
    description: Mapped[str | None] = mapped_column(Text)
    fee: Mapped[int] = mapped_column(BigInteger, server_default=text("0"), comment="VND, integer")
    grade_scale: Mapped[int] = mapped_column(SmallInteger, server_default=text("10"))


class Lesson(UUIDPrimaryKey, Timestamps, OptimisticVersion, TenantBase):
    __tablename__ = "lessons"
    __table_args__ = (
        CheckConstraint("duration_minutes BETWEEN 1 AND 1440", name="duration_range"),
        Index("ix_lessons_course_id_scheduled_at", "course_id", "scheduled_at"),
        Index("ix_lessons_scheduled_at", "scheduled_at"),
    )

    course_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("courses.id", ondelete="CASCADE"))
    title: Mapped[str | None] = mapped_column(String(200))
    scheduled_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    duration_minutes: Mapped[int] = mapped_column(SmallInteger, server_default=text("60"))
