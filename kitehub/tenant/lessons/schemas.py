"""Lesson and attendance bodies."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Literal

from pydantic import AwareDatetime, BaseModel, Field

from kitehub.schemas import StrictBody


class CreateLessonRequest(StrictBody):
    title: str | None = Field(default=None, max_length=200)
    scheduled_at: AwareDatetime = Field(description="with its UTC offset, e.g. 2026-12-01T08:00:00+07:00")
    duration_minutes: int = Field(default=60, ge=1, le=1440)


class UpdateLessonRequest(StrictBody):
    title: str | None = Field(default=None, max_length=200)
    scheduled_at: AwareDatetime | None = None
    duration_minutes: int | None = Field(default=None, ge=1, le=1440)


class LessonResponse(BaseModel):
    id: uuid.UUID
    course_id: uuid.UUID
    title: str | None
    scheduled_at: datetime
    duration_minutes: int
    created_at: datetime


class LessonPage(BaseModel):
    items: list[LessonResponse]
    total: int
    limit: int
    offset: int


class AttendanceMark(StrictBody):
    student_id: uuid.UUID
    status: Literal["present", "absent", "late", "excused"]
    note: str | None = Field(default=None, max_length=1000)


class AttendanceRequest(StrictBody):
    records: list[AttendanceMark] = Field(min_length=1, max_length=500)


class AttendanceResponse(BaseModel):
    student_id: uuid.UUID
    status: str
    note: str | None
    recorded_at: datetime


class AttendanceSheet(BaseModel):
    lesson_id: uuid.UUID
    records: list[AttendanceResponse]
