"""Tenant user bodies."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Literal

from pydantic import BaseModel, Field

from kitehub.schemas import StrictBody

Role = Literal["admin", "teacher", "staff"]


class CreateUserRequest(StrictBody):
    email: str = Field(min_length=3, max_length=320, examples=["thay.minh@truong.vn"])
    full_name: str = Field(min_length=1, max_length=200)
    role: Role
    password: str = Field(min_length=10, max_length=1024)


class UpdateUserRequest(StrictBody):
    full_name: str | None = Field(default=None, min_length=1, max_length=200)
    role: Role | None = None
    is_active: bool | None = None
    password: str | None = Field(default=None, min_length=10, max_length=1024)


class UserResponse(BaseModel):
    id: uuid.UUID
    email: str
    full_name: str
    role: str
    is_active: bool
    last_login_at: datetime | None
    created_at: datetime


class UserPage(BaseModel):
    items: list[UserResponse]
    total: int
    limit: int
    offset: int


class TenantLoginRequest(StrictBody):
    email: str = Field(min_length=1, max_length=320)
    password: str = Field(min_length=1, max_length=1024)


class TenantTokenResponse(BaseModel):
    access_token: str
    token_type: str = "bearer"  # noqa: S105 - the OAuth token type, not a secret
    expires_in: int
    role: str
