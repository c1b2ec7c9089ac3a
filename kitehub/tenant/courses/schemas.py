"""Course bodies."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Literal

from pydantic import BaseModel, Field

from kitehub.schemas import StrictBody


class CreateCourseRequest(StrictBody):
    name: str = Field(min_length=1, max_length=200)
    description: str | None = Field(default=None, max_length=10_000)
    fee: int = Field(default=0, ge=0, lt=10**12, description="VND")
    grade_scale: Literal[10, 100] = 10


class CourseResponse(BaseModel):
    id: uuid.UUID
    name: str
    description: str | None
    fee: int
    grade_scale: int
    created_at: datetime
    updated_at: datetime


class CoursePage(BaseModel):
    items: list[CourseResponse]
    total: int
    limit: int
    offset: int


class UpdateCourseRequest(StrictBody):
    name: str | None = Field(default=None, min_length=1, max_length=200)
    description: str | None = Field(default=None, max_length=10_000)
    fee: int | None = Field(default=None, ge=0, lt=10**12, description="VND")
    grade_scale: Literal[10, 100] | None = None
