"""Payment orders (VietQR transfers we wait for), their history, and raw bank deliveries."""

from __future__ import annotations

import uuid
from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    DateTime,
    ForeignKey,
    Index,
    String,
    Text,
    UniqueConstraint,
    text,
)
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


class PaymentOrderType(StrEnum):
    SUBSCRIPTION = "SUBSCRIPTION"
    ENROLLMENT = "ENROLLMENT"


class PaymentOrderKind(StrEnum):
    """What a SUBSCRIPTION order buys: months of a tier, or the rest of the period on a higher one."""

    PERIOD = "PERIOD"
    UPGRADE = "UPGRADE"


class PaymentOrderStatus(StrEnum):
    PENDING = "PENDING"
    PAID = "PAID"
    EXPIRED = "EXPIRED"
    CANCELLED = "CANCELLED"


class PaymentOrder(UUIDPrimaryKey, Timestamps, OptimisticVersion, PlatformBase):
    __tablename__ = "payment_orders"
    __table_args__ = (
        CheckConstraint("order_code ~ '^[A-Z0-9]{6,16}$'", name="order_code_format"),
        CheckConstraint("amount > 0", name="amount_positive"),
        CheckConstraint("amount_received >= 0", name="amount_received_non_negative"),
        CheckConstraint("months IS NULL OR months BETWEEN 1 AND 12", name="months_range"),
        CheckConstraint(
            "type <> 'SUBSCRIPTION' OR (tier_code IS NOT NULL AND (kind = 'UPGRADE' OR months IS NOT NULL))",
            name="subscription_has_plan",
        ),
        CheckConstraint("(type = 'SUBSCRIPTION') = (kind IS NOT NULL)", name="subscription_has_kind"),
        CheckConstraint(
            "type <> 'ENROLLMENT' OR enrollment_id IS NOT NULL",
            name="enrollment_has_reference",
        ),
        CheckConstraint("bank_bin ~ '^[0-9]{6}$'", name="bank_bin_format"),
        CheckConstraint("(status = 'PAID') = (paid_at IS NOT NULL)", name="paid_at_iff_paid"),
        UniqueConstraint("order_code"),
        # Idempotency-Key: one answer per (creator, key).
        Index(
            "uq_payment_orders_created_by_idempotency_key",
            "created_by",
            "idempotency_key",
            unique=True,
            postgresql_where=text("idempotency_key IS NOT NULL"),
        ),
        Index("ix_payment_orders_instance_id_created_at", "instance_id", "created_at"),
        # At most one order waiting per enrollment (two could both be paid).
        Index(
            "uq_payment_orders_pending_enrollment",
            "enrollment_id",
            unique=True,
            postgresql_where=text("type = 'ENROLLMENT' AND status = 'PENDING'"),
        ),
        Index("ix_payment_orders_status_expires_at", "status", "expires_at"),
    )

    order_code: Mapped[str] = mapped_column(String(16))
    type: Mapped[PaymentOrderType] = mapped_column(str_enum(PaymentOrderType, "payment_order_type"))
    kind: Mapped[PaymentOrderKind | None] = mapped_column(str_enum(PaymentOrderKind, "payment_order_kind"))
    status: Mapped[PaymentOrderStatus] = mapped_column(
        str_enum(PaymentOrderStatus, "payment_order_status"),
        server_default=PaymentOrderStatus.PENDING.value,
    )
    instance_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("instances.id", ondelete="RESTRICT"))
    tier_code: Mapped[str | None] = mapped_column(ForeignKey("tiers.code", ondelete="RESTRICT", onupdate="CASCADE"))
    months: Mapped[int | None] = mapped_column()
    enrollment_id: Mapped[uuid.UUID | None] = mapped_column(comment="tenant database enrollment, for ENROLLMENT orders")
    amount: Mapped[int] = mapped_column(BigInteger, comment="VND, integer")
    amount_received: Mapped[int] = mapped_column(BigInteger, server_default=text("0"), default=0)
    transfer_content: Mapped[str] = mapped_column(String(25))
    qr_payload: Mapped[str] = mapped_column(Text)
    bank_bin: Mapped[str] = mapped_column(String(6))
    bank_account_number: Mapped[str] = mapped_column(String(19))
    bank_account_name: Mapped[str] = mapped_column(String(100))
    expires_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    paid_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    paid_reference: Mapped[str | None] = mapped_column(
        String(128), comment="the bank's transaction reference, or the admin's note for a manual confirmation"
    )
    created_by: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("accounts.id", ondelete="RESTRICT"))
    idempotency_key: Mapped[str | None] = mapped_column(String(255))
    request_fingerprint: Mapped[str | None] = mapped_column(String(64), comment="sha256 of the creating request")
    details: Mapped[dict[str, Any]] = mapped_column(JSONB, server_default=text("'{}'::jsonb"))


class PaymentOrderEvent(BigIntPrimaryKey, CreatedAt, PlatformBase):
    """Every status change of a payment order, in the same transaction as the change."""

    __tablename__ = "payment_order_events"
    __table_args__ = (
        Index(
            "ix_payment_order_events_payment_order_id_created_at",
            "payment_order_id",
            "created_at",
        ),
    )

    payment_order_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("payment_orders.id", ondelete="RESTRICT"))
    from_status: Mapped[PaymentOrderStatus | None] = mapped_column(
        str_enum(PaymentOrderStatus, "payment_order_event_from_status")
    )
    to_status: Mapped[PaymentOrderStatus] = mapped_column(str_enum(PaymentOrderStatus, "payment_order_event_to_status"))
    actor_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("accounts.id", ondelete="SET NULL"))
    bank_transaction_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("bank_transactions.id", ondelete="RESTRICT")
    )
    reason: Mapped[str | None] = mapped_column(Text)


class BankProvider(StrEnum):
    SEPAY = "SEPAY"
    CASSO = "CASSO"


class TransferDirection(StrEnum):
    IN = "in"
    OUT = "out"


class BankTransactionStatus(StrEnum):
    """``received`` only inside the delivering transaction; every delivery ends in another."""

    RECEIVED = "received"
    MATCHED = "matched"  # paid an order automatically
    NEEDS_REVIEW = "needs_review"  # money kept for an admin: underpaid, unmatched, late
    IGNORED = "ignored"  # an outgoing transfer: nothing to pay
    RESOLVED = "resolved"  # an admin applied it to an order or dismissed it


class BankTransaction(UUIDPrimaryKey, Timestamps, OptimisticVersion, PlatformBase):
    """A credit reported by a bank-monitoring service, kept raw so no transfer is ever lost."""

    __tablename__ = "bank_transactions"
    __table_args__ = (
        # One row per transaction *per receiving account*: the platform's webhook and each
        # school's own webhook are separate id spaces (a school cannot shadow platform money).
        Index(
            "uq_bank_transactions_provider_scope_transaction",
            "provider",
            text("coalesce(instance_id, '00000000-0000-0000-0000-000000000000'::uuid)"),
            "provider_transaction_id",
            unique=True,
        ),
        CheckConstraint("amount >= 0", name="amount_non_negative"),
        Index("ix_bank_transactions_status_received_at", "status", "received_at"),
        Index("ix_bank_transactions_instance_id", "instance_id"),
        Index("ix_bank_transactions_payment_order_id", "payment_order_id"),
    )

    provider: Mapped[BankProvider] = mapped_column(str_enum(BankProvider, "bank_provider"))
    provider_transaction_id: Mapped[str] = mapped_column(String(128))
    instance_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("instances.id", ondelete="RESTRICT"),
        comment="set for an instance's own webhook",
    )
    account_number: Mapped[str | None] = mapped_column(String(32))
    direction: Mapped[TransferDirection] = mapped_column(
        str_enum(TransferDirection, "transfer_direction"), comment="only 'in' can pay an order"
    )
    amount: Mapped[int] = mapped_column(BigInteger, comment="VND, integer, never negative")
    content: Mapped[str | None] = mapped_column(Text)
    reference_code: Mapped[str | None] = mapped_column(String(128))
    transaction_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    raw_payload: Mapped[dict[str, Any]] = mapped_column(JSONB)
    status: Mapped[BankTransactionStatus] = mapped_column(
        str_enum(BankTransactionStatus, "bank_transaction_status"),
        server_default=BankTransactionStatus.RECEIVED.value,
    )
    payment_order_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("payment_orders.id", ondelete="RESTRICT"))
    review_reason: Mapped[str | None] = mapped_column(Text)
    received_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=text("now()"))
    resolved_by: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("accounts.id", ondelete="RESTRICT"))
    resolved_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
