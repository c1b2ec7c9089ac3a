"""The tenant's copy of what its tier allows, pushed from the platform (one row)."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import BigInteger, CheckConstraint, DateTime, SmallInteger, String, func, text
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from kitehub.tenant.base import TenantBase


class InstanceConfig(TenantBase):
    """Read on every limit check, so it lives next to the data it limits."""

    __tablename__ = "instance_config"
    __table_args__ = (CheckConstraint("id = 1", name="single_row"),)

    id: Mapped[int] = mapped_column(SmallInteger, primary_key=True, server_default=text("1"), default=1)
    instance_id: Mapped[uuid.UUID] = mapped_column()
    subdomain: Mapped[str] = mapped_column(String(50))
    tier_code: Mapped[str] = mapped_column(String(32))
    features: Mapped[dict[str, Any]] = mapped_column(JSONB, server_default=text("'{}'::jsonb"))
    limitations: Mapped[dict[str, Any]] = mapped_column(JSONB, server_default=text("'{}'::jsonb"))
    storage_limit_bytes: Mapped[int] = mapped_column(BigInteger, server_default=text("0"))
    synced_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
