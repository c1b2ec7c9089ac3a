"""Grade bodies."""

from __future__ import annotations

import uuid
from datetime import datetime
from decimal import Decimal

from pydantic import BaseModel, Field

from kitehub.schemas import StrictBody


class CreateGradeRequest(StrictBody):
    student_id: uuid.UUID
    course_id: uuid.UUID
    assessment: str = Field(min_length=1, max_length=100, examples=["Kiem tra giua ky"])
    score: Decimal = Field(ge=0, le=100, max_digits=5, decimal_places=2, description="within the course's scale")


class UpdateGradeRequest(StrictBody):
    score: Decimal = Field(ge=0, le=100, max_digits=5, decimal_places=2)


class GradeResponse(BaseModel):
    id: uuid.UUID
    student_id: uuid.UUID
    course_id: uuid.UUID
    assessment: str
    score: Decimal
    graded_at: datetime


class GradePage(BaseModel):
    items: list[GradeResponse]
    total: int
    limit: int
    offset: int
