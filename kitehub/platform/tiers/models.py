"""Tiers: what an instance may do (features), how much (limitations) and what it costs."""

from __future__ import annotations

from typing import Any

from sqlalchemy import BigInteger, CheckConstraint, String, text
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from kitehub.db import PlatformBase
from kitehub.orm import OptimisticVersion, Timestamps


class Tier(Timestamps, OptimisticVersion, PlatformBase):
    __tablename__ = "tiers"
    __table_args__ = (
        CheckConstraint("code ~ '^[A-Z][A-Z0-9_]{1,31}$'", name="code_format"),
        CheckConstraint("monthly_price >= 0", name="monthly_price_non_negative"),
        CheckConstraint("storage_limit_bytes >= 0", name="storage_limit_non_negative"),
        CheckConstraint("jsonb_typeof(features) = 'object'", name="features_is_object"),
        CheckConstraint("jsonb_typeof(limitations) = 'object'", name="limitations_is_object"),
    )

    code: Mapped[str] = mapped_column(String(32), primary_key=True)
    name: Mapped[str] = mapped_column(String(100))
    monthly_price: Mapped[int] = mapped_column(BigInteger, comment="VND per month, integer")
    features: Mapped[dict[str, Any]] = mapped_column(JSONB, server_default=text("'{}'::jsonb"))
    limitations: Mapped[dict[str, Any]] = mapped_column(
        JSONB, server_default=text("'{}'::jsonb"), comment="null value = unlimited"
    )
    storage_limit_bytes: Mapped[int] = mapped_column(BigInteger, server_default=text("0"))
    sort_order: Mapped[int] = mapped_column(server_default=text("0"))
    is_public: Mapped[bool] = mapped_column(server_default=text("true"), default=True)
