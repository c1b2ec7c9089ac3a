"""Dynamic platform configuration: values an admin changes at run time, without a deploy."""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import CheckConstraint, ForeignKey, String, Text
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from kitehub.db import PlatformBase
from kitehub.orm import OptimisticVersion, Timestamps


class PlatformSetting(Timestamps, OptimisticVersion, PlatformBase):
    __tablename__ = "settings"
    __table_args__ = (CheckConstraint("key ~ '^[a-z][a-z0-9_.]{0,99}$'", name="key_format"),)

    key: Mapped[str] = mapped_column(String(100), primary_key=True)
    value: Mapped[Any] = mapped_column(JSONB)
    description: Mapped[str | None] = mapped_column(Text)
    updated_by: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("accounts.id", ondelete="SET NULL"))
