"""Tier bodies."""

from __future__ import annotations

from pydantic import BaseModel


class TierResponse(BaseModel):
    code: str
    name: str
    monthly_price: int  # VND
    features: dict[str, bool]
    limitations: dict[str, int | None]  # null = unlimited
    storage_limit_bytes: int
