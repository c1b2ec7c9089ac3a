"""Scores of students in a course's assessments (within the course's grade scale)."""

from __future__ import annotations

import uuid
from datetime import datetime
from decimal import Decimal

from sqlalchemy import CheckConstraint, DateTime, ForeignKey, Index, Numeric, String, UniqueConstraint, func
from sqlalchemy.orm import Mapped, mapped_column

from kitehub.orm import OptimisticVersion, Timestamps, UUIDPrimaryKey
from kitehub.tenant.base import TenantBase


class Grade(UUIDPrimaryKey, Timestamps, OptimisticVersion, TenantBase):
    __tablename__ = "grades"
    __table_args__ = (
        UniqueConstraint("student_id", "course_id", "assessment"),
        CheckConstraint("score >= 0 AND score <= 100", name="score_range"),
        CheckConstraint("length(btrim(assessment)) > 0", name="assessment_not_blank"),
        Index("ix_grades_course_id_student_id", "course_id", "student_id"),
    )

    student_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("students.id", ondelete="RESTRICT"))
    course_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("courses.id", ondelete="RESTRICT"))
    assessment: Mapped[str] = mapped_column(String(100))
    score: Mapped[Decimal] = mapped_column(Numeric(6, 2))
    graded_by: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    graded_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
