"""Tier bodies."""

from __future__ import annotations

from pydantic import BaseModel, Field

from kitehub.schemas import StrictBody


class TierResponse(BaseModel):
    code: str
    name: str
    monthly_price: int  # VND
    features: dict[str, bool]
    limitations: dict[str, int | None]  # null = unlimited
    storage_limit_bytes: int


class TierFeatures(StrictBody):
    engagement: bool
    media: bool
    premium: bool


class TierLimitations(StrictBody):
    max_students: int | None = Field(ge=0, le=10_000_000, description="null = unlimited")
    max_courses: int | None = Field(ge=0, le=10_000_000, description="null = unlimited")


class UpdateTierRequest(StrictBody):
    monthly_price: int = Field(ge=0, lt=10**12, description="VND per month")
    features: TierFeatures
    limitations: TierLimitations
    storage_limit_bytes: int = Field(ge=0, lt=2**62)
    name: str | None = Field(default=None, min_length=1, max_length=100)


class UpdateTierResponse(TierResponse):
    instances_updating: int = Field(description="instances whose tenant configuration is being rewritten")
