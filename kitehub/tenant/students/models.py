"""Students and their enrollments in courses."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from enum import StrEnum

from sqlalchemy import CheckConstraint, Date, DateTime, ForeignKey, Index, String, UniqueConstraint, func, text
from sqlalchemy.orm import Mapped, mapped_column

from kitehub.orm import OptimisticVersion, SoftDelete, Timestamps, UUIDPrimaryKey, str_enum
from kitehub.tenant.base import TenantBase


class Student(UUIDPrimaryKey, Timestamps, SoftDelete, OptimisticVersion, TenantBase):
    __tablename__ = "students"
    __table_args__ = (
        Index(
            "uq_students_email_live",
            func.lower(text("email")),
            unique=True,
            postgresql_where=text("deleted_at IS NULL AND email IS NOT NULL"),
        ),
        Index("ix_students_lower_full_name", func.lower(text("full_name"))),
        Index("ix_students_created_at", "created_at"),
        CheckConstraint("email IS NULL OR position('@' in email) > 1", name="email_has_at"),
        CheckConstraint("length(btrim(full_name)) > 0", name="full_name_not_blank"),
    )

    full_name: Mapped[str] = mapped_column(String(200))
    email: Mapped[str | None] = mapped_column(String(320))
    phone: Mapped[str | None] = mapped_column(String(32))
    date_of_birth: Mapped[date | None] = mapped_column(Date)


class EnrollmentStatus(StrEnum):
    PENDING = "PENDING"
    ACTIVE = "ACTIVE"
    COMPLETED = "COMPLETED"
    CANCELLED = "CANCELLED"


class Enrollment(UUIDPrimaryKey, Timestamps, OptimisticVersion, TenantBase):
    __tablename__ = "enrollments"
    __table_args__ = (
        UniqueConstraint("student_id", "course_id"),
        Index("ix_enrollments_course_id_status", "course_id", "status"),
    )

    student_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("students.id", ondelete="RESTRICT"))
    course_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("courses.id", ondelete="RESTRICT"))
    status: Mapped[EnrollmentStatus] = mapped_column(
        str_enum(EnrollmentStatus, "enrollment_status"), server_default=EnrollmentStatus.PENDING.value
    )
    payment_reference: Mapped[str | None] = mapped_column(String(32), comment="platform payment order code")
    paid_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
