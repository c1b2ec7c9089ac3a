"""Subscriptions: the billing state of an instance (one per instance) and its history."""

from __future__ import annotations

import uuid
from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import CheckConstraint, DateTime, ForeignKey, Index, String, Text, text
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from kitehub.db import PlatformBase
from kitehub.orm import (
    BigIntPrimaryKey,
    CreatedAt,
    OptimisticVersion,
    Timestamps,
    UUIDPrimaryKey,
    str_enum,
)


class SubscriptionStatus(StrEnum):
    TRIAL = "TRIAL"
    ACTIVE = "ACTIVE"
    PAST_DUE = "PAST_DUE"
    EXPIRED = "EXPIRED"
    CANCELED = "CANCELED"


class Subscription(UUIDPrimaryKey, Timestamps, OptimisticVersion, PlatformBase):
    """The instance's trial and paid-period dates live here, the single source of truth."""

    __tablename__ = "subscriptions"
    __table_args__ = (
        CheckConstraint(
            "current_period_end IS NULL OR current_period_start IS NULL OR current_period_end > current_period_start",
            name="period_ordered",
        ),
        CheckConstraint("status <> 'TRIAL' OR trial_end IS NOT NULL", name="trial_has_end"),
        CheckConstraint(
            "status NOT IN ('ACTIVE', 'PAST_DUE') OR current_period_end IS NOT NULL",
            name="paid_has_period",
        ),
        Index("ix_subscriptions_status_current_period_end", "status", "current_period_end"),
        Index("ix_subscriptions_status_trial_end", "status", "trial_end"),
    )

    instance_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("instances.id", ondelete="RESTRICT"), unique=True)
    tier_code: Mapped[str] = mapped_column(ForeignKey("tiers.code", ondelete="RESTRICT", onupdate="CASCADE"))
    status: Mapped[SubscriptionStatus] = mapped_column(
        str_enum(SubscriptionStatus, "subscription_status"),
        server_default=SubscriptionStatus.TRIAL.value,
    )
    trial_end: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    current_period_start: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    current_period_end: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    grace_until: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    cancel_at_period_end: Mapped[bool] = mapped_column(server_default=text("false"), default=False)
    scheduled_tier_code: Mapped[str | None] = mapped_column(
        ForeignKey("tiers.code", ondelete="RESTRICT", onupdate="CASCADE"),
        comment="downgrade at period end",
    )


class SubscriptionHistory(BigIntPrimaryKey, CreatedAt, PlatformBase):
    """Every change of a subscription, with who did it and why, in the change's transaction."""

    __tablename__ = "subscription_history"
    __table_args__ = (
        Index(
            "ix_subscription_history_subscription_id_created_at",
            "subscription_id",
            "created_at",
        ),
    )

    subscription_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("subscriptions.id", ondelete="RESTRICT"))
    event: Mapped[str] = mapped_column(String(64), comment="created, paid, renewed, tier_changed, canceled, ...")
    from_status: Mapped[SubscriptionStatus | None] = mapped_column(
        str_enum(SubscriptionStatus, "subscription_history_from_status")
    )
    to_status: Mapped[SubscriptionStatus] = mapped_column(
        str_enum(SubscriptionStatus, "subscription_history_to_status")
    )
    from_tier_code: Mapped[str | None] = mapped_column(String(32))
    to_tier_code: Mapped[str | None] = mapped_column(String(32))
    actor_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("accounts.id", ondelete="SET NULL"))
    reason: Mapped[str | None] = mapped_column(Text)
    payment_order_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("payment_orders.id", ondelete="RESTRICT"))
    details: Mapped[dict[str, Any]] = mapped_column(JSONB, server_default=text("'{}'::jsonb"))
