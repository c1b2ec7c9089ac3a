"""Student bodies."""

from __future__ import annotations

import uuid
from datetime import date, datetime

from pydantic import BaseModel, Field

from kitehub.schemas import StrictBody


class CreateStudentRequest(StrictBody):
    full_name: str = Field(min_length=1, max_length=200, examples=["Nguyen Van An"])
    email: str | None = Field(default=None, max_length=320)
    phone: str | None = Field(default=None, max_length=32)
    date_of_birth: date | None = None


class UpdateStudentRequest(StrictBody):
    full_name: str | None = Field(default=None, min_length=1, max_length=200)
    email: str | None = Field(default=None, max_length=320, description="empty string removes it")
    phone: str | None = Field(default=None, max_length=32, description="empty string removes it")
    date_of_birth: date | None = None


class StudentResponse(BaseModel):
    id: uuid.UUID
    full_name: str
    email: str | None
    phone: str | None
    date_of_birth: date | None
    created_at: datetime
    updated_at: datetime


class StudentPage(BaseModel):
    items: list[StudentResponse]
    total: int
    limit: int
    offset: int
