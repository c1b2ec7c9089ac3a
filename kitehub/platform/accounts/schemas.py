"""Account request and response bodies (unknown fields are refused: no mass assignment)."""

from __future__ import annotations

import uuid
from datetime import datetime

from pydantic import BaseModel, Field

from kitehub.schemas import StrictBody


class SignupRequest(StrictBody):
    email: str = Field(max_length=320, examples=["owner@school.vn"])
    password: str = Field(min_length=10, max_length=1024)
    full_name: str = Field(min_length=1, max_length=200)


class LoginRequest(StrictBody):
    email: str = Field(max_length=320)
    password: str = Field(max_length=1024)


class TokenResponse(BaseModel):
    access_token: str
    token_type: str = "bearer"  # noqa: S105 - the OAuth token type, not a secret
    expires_in: int


class AccountResponse(BaseModel):
    id: uuid.UUID
    email: str
    full_name: str
    role: str
    created_at: datetime
