"""Guest analytics bodies."""

from __future__ import annotations

import json
import uuid
from typing import Any, Literal

from pydantic import BaseModel, Field, field_validator

from kitehub.schemas import StrictBody

MAX_METADATA_BYTES = 2048


class StartSessionRequest(StrictBody):
    source: str | None = Field(default=None, max_length=100, examples=["facebook"])
    device_type: Literal["desktop", "mobile", "tablet", "other"] = "other"


class SessionStarted(BaseModel):
    session_id: uuid.UUID


class GuestEventRequest(StrictBody):
    session_id: uuid.UUID
    event_type: str = Field(pattern=r"^[a-z][a-z0-9_]{0,49}$", examples=["page_view", "course_view", "contact_click"])
    course_id: uuid.UUID | None = None
    metadata: dict[str, Any] = Field(default_factory=dict)

    @field_validator("metadata")
    @classmethod
    def _small(cls, value: dict[str, Any]) -> dict[str, Any]:
        if len(json.dumps(value, default=str)) > MAX_METADATA_BYTES:
            raise ValueError(f"at most {MAX_METADATA_BYTES} bytes of JSON")
        return value


class EventRecorded(BaseModel):
    recorded: bool = True


class Count(BaseModel):
    key: str | None
    count: int


class CourseCount(BaseModel):
    course_id: uuid.UUID
    name: str | None
    count: int


class AnalyticsSummary(BaseModel):
    sessions: int
    events: int
    events_by_type: list[Count]
    top_courses: list[CourseCount]
    sources: list[Count]
    devices: list[Count]
