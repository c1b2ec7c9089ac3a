"""Tenant schema: instance config, staff, courses, lessons, students, enrollments, attendance, grades, guests, media.

Revision ID: t0001
Revises:
Create Date: 2026-11-21
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "t0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "courses",
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("description", sa.Text(), nullable=True),
        sa.Column("fee", sa.BigInteger(), server_default=sa.text("0"), nullable=False, comment="VND, integer"),
        sa.Column("grade_scale", sa.SmallInteger(), server_default=sa.text("10"), nullable=False),
        sa.Column("id", sa.Uuid(), server_default=sa.text("gen_random_uuid()"), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.Column("deleted_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("version", sa.Integer(), server_default=sa.text("1"), nullable=False),
        sa.CheckConstraint("fee >= 0", name=op.f("ck_courses_fee_non_negative")),
        sa.CheckConstraint("grade_scale IN (10, 100)", name=op.f("ck_courses_grade_scale_allowed")),
        sa.CheckConstraint("length(btrim(name)) > 0", name=op.f("ck_courses_name_not_blank")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_courses")),
    )
    op.create_index("ix_courses_created_at", "courses", ["created_at"], unique=False)
    op.create_index("ix_courses_lower_name", "courses", [sa.literal_column("lower(name)")], unique=False)
    op.create_table(
        "guest_sessions",
        sa.Column("source", sa.String(length=100), nullable=True, comment="utm source, referrer host, ..."),
        sa.Column(
            "device_type",
            sa.Enum(
                "desktop", "mobile", "tablet", "other", name="device_type", native_enum=False, create_constraint=True
            ),
            nullable=False,
        ),
        sa.Column("started_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.Column("id", sa.Uuid(), server_default=sa.text("gen_random_uuid()"), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_guest_sessions")),
    )
    op.create_index("ix_guest_sessions_started_at", "guest_sessions", ["started_at"], unique=False)
    op.create_table(
        "instance_config",
        sa.Column("id", sa.SmallInteger(), server_default=sa.text("1"), nullable=False),
        sa.Column("instance_id", sa.Uuid(), nullable=False),
        sa.Column("subdomain", sa.String(length=50), nullable=False),
        sa.Column("tier_code", sa.String(length=32), nullable=False),
        sa.Column(
            "features", postgresql.JSONB(astext_type=sa.Text()), server_default=sa.text("'{}'::jsonb"), nullable=False
        ),
        sa.Column(
            "limitations",
            postgresql.JSONB(astext_type=sa.Text()),
            server_default=sa.text("'{}'::jsonb"),
            nullable=False,
        ),
        sa.Column("storage_limit_bytes", sa.BigInteger(), server_default=sa.text("0"), nullable=False),
        sa.Column("synced_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.CheckConstraint("id = 1", name=op.f("ck_instance_config_single_row")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_instance_config")),
    )
    op.create_table(
        "students",
        sa.Column("full_name", sa.String(length=200), nullable=False),
        sa.Column("email", sa.String(length=320), nullable=True),
        sa.Column("phone", sa.String(length=32), nullable=True),
        sa.Column("date_of_birth", sa.Date(), nullable=True),
        sa.Column("id", sa.Uuid(), server_default=sa.text("gen_random_uuid()"), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.Column("deleted_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("version", sa.Integer(), server_default=sa.text("1"), nullable=False),
        sa.CheckConstraint("email IS NULL OR position('@' in email) > 1", name=op.f("ck_students_email_has_at")),
        sa.CheckConstraint("length(btrim(full_name)) > 0", name=op.f("ck_students_full_name_not_blank")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_students")),
    )
    op.create_index("ix_students_created_at", "students", ["created_at"], unique=False)
    op.create_index("ix_students_lower_full_name", "students", [sa.literal_column("lower(full_name)")], unique=False)
    op.create_index(
        "uq_students_email_live",
        "students",
        [sa.literal_column("lower(email)")],
        unique=True,
        postgresql_where=sa.text("deleted_at IS NULL AND email IS NOT NULL"),
    )
    op.create_table(
        "users",
        sa.Column("email", sa.String(length=320), nullable=False),
        sa.Column("full_name", sa.String(length=200), nullable=False),
        sa.Column(
            "role",
            sa.Enum("admin", "teacher", "staff", name="tenant_role", native_enum=False, create_constraint=True),
            nullable=False,
        ),
        sa.Column("password_hash", sa.String(length=255), nullable=False),
        sa.Column("is_active", sa.Boolean(), server_default=sa.text("true"), nullable=False),
        sa.Column("failed_login_count", sa.Integer(), server_default=sa.text("0"), nullable=False),
        sa.Column("locked_until", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_login_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("id", sa.Uuid(), server_default=sa.text("gen_random_uuid()"), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.Column("deleted_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("version", sa.Integer(), server_default=sa.text("1"), nullable=False),
        sa.CheckConstraint("position('@' in email) > 1", name=op.f("ck_users_email_has_at")),
        sa.CheckConstraint("failed_login_count >= 0", name=op.f("ck_users_failed_login_count_non_negative")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_users")),
    )
    op.create_index(
        "uq_users_email_live",
        "users",
        [sa.literal_column("lower(email)")],
        unique=True,
        postgresql_where=sa.text("deleted_at IS NULL"),
    )
    op.create_table(
        "enrollments",
        sa.Column("student_id", sa.Uuid(), nullable=False),
        sa.Column("course_id", sa.Uuid(), nullable=False),
        sa.Column(
            "status",
            sa.Enum(
                "PENDING",
                "ACTIVE",
                "COMPLETED",
                "CANCELLED",
                name="enrollment_status",
                native_enum=False,
                create_constraint=True,
            ),
            server_default="PENDING",
            nullable=False,
        ),
        sa.Column("payment_reference", sa.String(length=32), nullable=True, comment="platform payment order code"),
        sa.Column("paid_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("id", sa.Uuid(), server_default=sa.text("gen_random_uuid()"), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.Column("version", sa.Integer(), server_default=sa.text("1"), nullable=False),
        sa.ForeignKeyConstraint(
            ["course_id"], ["courses.id"], name=op.f("fk_enrollments_course_id_courses"), ondelete="RESTRICT"
        ),
        sa.ForeignKeyConstraint(
            ["student_id"], ["students.id"], name=op.f("fk_enrollments_student_id_students"), ondelete="RESTRICT"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_enrollments")),
        sa.UniqueConstraint("student_id", "course_id", name=op.f("uq_enrollments_student_id_course_id")),
    )
    op.create_index("ix_enrollments_course_id_status", "enrollments", ["course_id", "status"], unique=False)
    op.create_table(
        "grades",
        sa.Column("student_id", sa.Uuid(), nullable=False),
        sa.Column("course_id", sa.Uuid(), nullable=False),
        sa.Column("assessment", sa.String(length=100), nullable=False),
        sa.Column("score", sa.Numeric(precision=6, scale=2), nullable=False),
        sa.Column("graded_by", sa.Uuid(), nullable=True),
        sa.Column("graded_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.Column("id", sa.Uuid(), server_default=sa.text("gen_random_uuid()"), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.Column("version", sa.Integer(), server_default=sa.text("1"), nullable=False),
        sa.CheckConstraint("length(btrim(assessment)) > 0", name=op.f("ck_grades_assessment_not_blank")),
        sa.CheckConstraint("score >= 0 AND score <= 100", name=op.f("ck_grades_score_range")),
        sa.ForeignKeyConstraint(
            ["course_id"], ["courses.id"], name=op.f("fk_grades_course_id_courses"), ondelete="RESTRICT"
        ),
        sa.ForeignKeyConstraint(
            ["graded_by"], ["users.id"], name=op.f("fk_grades_graded_by_users"), ondelete="SET NULL"
        ),
        sa.ForeignKeyConstraint(
            ["student_id"], ["students.id"], name=op.f("fk_grades_student_id_students"), ondelete="RESTRICT"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_grades")),
        sa.UniqueConstraint(
            "student_id", "course_id", "assessment", name=op.f("uq_grades_student_id_course_id_assessment")
        ),
    )
    op.create_index("ix_grades_course_id_student_id", "grades", ["course_id", "student_id"], unique=False)
    op.create_table(
        "guest_events",
        sa.Column("session_id", sa.Uuid(), nullable=False),
        sa.Column("event_type", sa.String(length=50), nullable=False),
        sa.Column("course_id", sa.Uuid(), nullable=True),
        sa.Column(
            "metadata", postgresql.JSONB(astext_type=sa.Text()), server_default=sa.text("'{}'::jsonb"), nullable=False
        ),
        sa.Column("occurred_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.Column("id", sa.BigInteger(), autoincrement=True, nullable=False),
        sa.CheckConstraint("event_type ~ '^[a-z][a-z0-9_]{0,49}$'", name=op.f("ck_guest_events_event_type_format")),
        sa.ForeignKeyConstraint(
            ["course_id"], ["courses.id"], name=op.f("fk_guest_events_course_id_courses"), ondelete="SET NULL"
        ),
        sa.ForeignKeyConstraint(
            ["session_id"],
            ["guest_sessions.id"],
            name=op.f("fk_guest_events_session_id_guest_sessions"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_guest_events")),
    )
    op.create_index("ix_guest_events_course_id_occurred_at", "guest_events", ["course_id", "occurred_at"], unique=False)
    op.create_index("ix_guest_events_occurred_at", "guest_events", ["occurred_at"], unique=False)
    op.create_index("ix_guest_events_session_id", "guest_events", ["session_id"], unique=False)
    op.create_table(
        "lessons",
        sa.Column("course_id", sa.Uuid(), nullable=False),
        sa.Column("title", sa.String(length=200), nullable=True),
        sa.Column("scheduled_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("duration_minutes", sa.SmallInteger(), server_default=sa.text("60"), nullable=False),
        sa.Column("id", sa.Uuid(), server_default=sa.text("gen_random_uuid()"), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.Column("version", sa.Integer(), server_default=sa.text("1"), nullable=False),
        sa.CheckConstraint("duration_minutes BETWEEN 1 AND 1440", name=op.f("ck_lessons_duration_range")),
        sa.ForeignKeyConstraint(
            ["course_id"], ["courses.id"], name=op.f("fk_lessons_course_id_courses"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_lessons")),
    )
    op.create_index("ix_lessons_course_id_scheduled_at", "lessons", ["course_id", "scheduled_at"], unique=False)
    op.create_index("ix_lessons_scheduled_at", "lessons", ["scheduled_at"], unique=False)
    op.create_table(
        "media_files",
        sa.Column("filename", sa.String(length=255), nullable=False),
        sa.Column("content_type", sa.String(length=127), nullable=False),
        sa.Column("size_bytes", sa.BigInteger(), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("storage_key", sa.String(length=255), nullable=False),
        sa.Column("uploaded_by", sa.Uuid(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.Column("id", sa.Uuid(), server_default=sa.text("gen_random_uuid()"), nullable=False),
        sa.Column("deleted_at", sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint("sha256 ~ '^[0-9a-f]{64}$'", name=op.f("ck_media_files_sha256_format")),
        sa.CheckConstraint("size_bytes >= 0", name=op.f("ck_media_files_size_non_negative")),
        sa.ForeignKeyConstraint(
            ["uploaded_by"], ["users.id"], name=op.f("fk_media_files_uploaded_by_users"), ondelete="SET NULL"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_media_files")),
        sa.UniqueConstraint("storage_key", name=op.f("uq_media_files_storage_key")),
    )
    op.create_index("ix_media_files_created_at", "media_files", ["created_at"], unique=False)
    op.create_table(
        "attendance_records",
        sa.Column("lesson_id", sa.Uuid(), nullable=False),
        sa.Column("student_id", sa.Uuid(), nullable=False),
        sa.Column(
            "status",
            sa.Enum(
                "present",
                "absent",
                "late",
                "excused",
                name="attendance_status",
                native_enum=False,
                create_constraint=True,
            ),
            nullable=False,
        ),
        sa.Column("note", sa.Text(), nullable=True),
        sa.Column("recorded_by", sa.Uuid(), nullable=True),
        sa.Column("recorded_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.Column("id", sa.Uuid(), server_default=sa.text("gen_random_uuid()"), nullable=False),
        sa.ForeignKeyConstraint(
            ["lesson_id"], ["lessons.id"], name=op.f("fk_attendance_records_lesson_id_lessons"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["recorded_by"], ["users.id"], name=op.f("fk_attendance_records_recorded_by_users"), ondelete="SET NULL"
        ),
        sa.ForeignKeyConstraint(
            ["student_id"], ["students.id"], name=op.f("fk_attendance_records_student_id_students"), ondelete="RESTRICT"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_attendance_records")),
        sa.UniqueConstraint("lesson_id", "student_id", name=op.f("uq_attendance_records_lesson_id_student_id")),
    )
    op.create_index("ix_attendance_records_student_id", "attendance_records", ["student_id"], unique=False)


def downgrade() -> None:
    op.drop_index("ix_attendance_records_student_id", table_name="attendance_records")
    op.drop_table("attendance_records")
    op.drop_index("ix_media_files_created_at", table_name="media_files")
    op.drop_table("media_files")
    op.drop_index("ix_lessons_scheduled_at", table_name="lessons")
    op.drop_index("ix_lessons_course_id_scheduled_at", table_name="lessons")
    op.drop_table("lessons")
    op.drop_index("ix_guest_events_session_id", table_name="guest_events")
    op.drop_index("ix_guest_events_occurred_at", table_name="guest_events")
    op.drop_index("ix_guest_events_course_id_occurred_at", table_name="guest_events")
    op.drop_table("guest_events")
    op.drop_index("ix_grades_course_id_student_id", table_name="grades")
    op.drop_table("grades")
    op.drop_index("ix_enrollments_course_id_status", table_name="enrollments")
    op.drop_table("enrollments")
    op.drop_index("uq_users_email_live", table_name="users", postgresql_where=sa.text("deleted_at IS NULL"))
    op.drop_table("users")
    op.drop_index(
        "uq_students_email_live",
        table_name="students",
        postgresql_where=sa.text("deleted_at IS NULL AND email IS NOT NULL"),
    )
    op.drop_index("ix_students_lower_full_name", table_name="students")
    op.drop_index("ix_students_created_at", table_name="students")
    op.drop_table("students")
    op.drop_table("instance_config")
    op.drop_index("ix_guest_sessions_started_at", table_name="guest_sessions")
    op.drop_table("guest_sessions")
    op.drop_index("ix_courses_lower_name", table_name="courses")
    op.drop_index("ix_courses_created_at", table_name="courses")
    op.drop_table("courses")
