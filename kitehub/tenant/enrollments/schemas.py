"""Enrollment bodies."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Literal

from pydantic import BaseModel, Field

from kitehub.schemas import StrictBody


class CreateEnrollmentRequest(StrictBody):
    student_id: uuid.UUID
    course_id: uuid.UUID


class UpdateEnrollmentRequest(StrictBody):
    status: Literal["COMPLETED", "CANCELLED"]


class MarkPaidRequest(StrictBody):
    reference: str | None = Field(default=None, max_length=128, description="receipt or bank reference")


class EnrollmentResponse(BaseModel):
    id: uuid.UUID
    student_id: uuid.UUID
    course_id: uuid.UUID
    status: str
    payment_reference: str | None
    paid_at: datetime | None
    created_at: datetime


class EnrollmentPage(BaseModel):
    items: list[EnrollmentResponse]
    total: int
    limit: int
    offset: int
