"""Storage quota accounting: bytes used and reserved per instance, and the ledger behind them."""

from __future__ import annotations

import uuid
from datetime import datetime
from enum import StrEnum

from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    DateTime,
    ForeignKey,
    Index,
    Text,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column

from kitehub.db import PlatformBase
from kitehub.orm import BigIntPrimaryKey, CreatedAt, OptimisticVersion, str_enum


class StorageUsage(OptimisticVersion, PlatformBase):
    """Reservation and use are counted apart so an upload in flight cannot overdraw the quota."""

    __tablename__ = "storage_usage"
    __table_args__ = (
        CheckConstraint("used_bytes >= 0", name="used_non_negative"),
        CheckConstraint("reserved_bytes >= 0", name="reserved_non_negative"),
    )

    instance_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("instances.id", ondelete="RESTRICT"), primary_key=True)
    used_bytes: Mapped[int] = mapped_column(BigInteger, server_default=text("0"), default=0)
    reserved_bytes: Mapped[int] = mapped_column(BigInteger, server_default=text("0"), default=0)
    updated_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), server_default=text("now()"), onupdate=text("now()")
    )


class StorageEventKind(StrEnum):
    UPLOAD = "UPLOAD"  # bytes taken by a stored file
    RESERVE = "RESERVE"
    COMMIT = "COMMIT"
    RELEASE = "RELEASE"
    DELETE = "DELETE"
    ADJUST = "ADJUST"


class StorageEvent(BigIntPrimaryKey, CreatedAt, PlatformBase):
    __tablename__ = "storage_events"
    __table_args__ = (Index("ix_storage_events_instance_id_created_at", "instance_id", "created_at"),)

    instance_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("instances.id", ondelete="RESTRICT"))
    kind: Mapped[StorageEventKind] = mapped_column(str_enum(StorageEventKind, "storage_event_kind"))
    bytes_delta: Mapped[int] = mapped_column(BigInteger)
    media_id: Mapped[uuid.UUID | None] = mapped_column(comment="tenant database media file")
    reservation_id: Mapped[uuid.UUID | None] = mapped_column()
    reason: Mapped[str | None] = mapped_column(Text)
