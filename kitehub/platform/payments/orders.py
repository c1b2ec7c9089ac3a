"""Payment orders: a VietQR transfer we wait for (its status changes are ``order_lifecycle``'s).

An order carries everything the payer needs (amount, account, transfer content, QR payload) frozen
at creation, so a later price or settings change never alters what somebody is about to pay.
"""

from __future__ import annotations

import re
import secrets
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from kitehub.errors import ConflictError, NotFoundError, ServiceUnavailableError
from kitehub.platform.instances.models import Instance
from kitehub.platform.payments.models import (
    PaymentOrder,
    PaymentOrderEvent,
    PaymentOrderKind,
    PaymentOrderType,
)
from kitehub.platform.payments.order_lifecycle import P, transition
from kitehub.platform.payments.schemas import PaymentOrderResponse, ReceivingBank
from kitehub.platform.payments.vietqr import VietQR
from kitehub.settings import Settings

# No I, O, 0 or 1: a code read aloud or typed from a screenshot cannot be mistyped into another.
ORDER_CODE_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"
ORDER_CODE_PREFIX = "KH"
ORDER_CODE_RANDOM_LENGTH = 8  # 32**8 = 2**40 codes
ORDER_CODE_PATTERN = re.compile(rf"{ORDER_CODE_PREFIX}[{ORDER_CODE_ALPHABET}]{{{ORDER_CODE_RANDOM_LENGTH}}}")
TRANSFER_PREFIX = "KITEHUB"


@dataclass(frozen=True, slots=True)
class ReceivingAccount:
    bin: str
    account_number: str
    account_name: str


def configured_account(settings: Settings) -> ReceivingAccount | None:
    if settings.platform_bank_bin and settings.platform_bank_account and settings.platform_bank_account_name:
        return ReceivingAccount(
            settings.platform_bank_bin, settings.platform_bank_account, settings.platform_bank_account_name
        )
    return None


def platform_account(settings: Settings) -> ReceivingAccount:
    """Where subscription money goes; without it no order can be made (say so, not a 500)."""
    account = configured_account(settings)
    if account is None:
        raise ServiceUnavailableError(
            "payments are not configured on this platform (KITEHUB_PLATFORM_BANK_BIN, "
            "KITEHUB_PLATFORM_BANK_ACCOUNT, KITEHUB_PLATFORM_BANK_ACCOUNT_NAME)",
            retry_after_seconds=3600,
        )
    return account


def new_order_code() -> str:
    return ORDER_CODE_PREFIX + "".join(secrets.choice(ORDER_CODE_ALPHABET) for _ in range(ORDER_CODE_RANDOM_LENGTH))


def transfer_content_for(order_code: str) -> str:
    return f"{TRANSFER_PREFIX} {order_code}"


async def create_order(
    session: AsyncSession,
    *,
    instance: Instance,
    order_type: PaymentOrderType,
    kind: PaymentOrderKind | None,
    amount: int,
    account: ReceivingAccount,
    expires_at: datetime,
    created_by: uuid.UUID | None,
    tier_code: str | None = None,
    months: int | None = None,
    details: dict[str, Any] | None = None,
    enrollment_id: uuid.UUID | None = None,
    content_for: Callable[[str], str] = transfer_content_for,
) -> PaymentOrder:
    """A PENDING order with a fresh code (a collision, one in 2**40, just draws again)."""
    for _attempt in range(5):
        code = new_order_code()
        order = PaymentOrder(
            id=uuid.uuid4(),
            order_code=code,
            type=order_type,
            kind=kind,
            status=P.PENDING,
            instance_id=instance.id,
            tier_code=tier_code,
            months=months,
            amount=amount,
            amount_received=0,
            transfer_content=content_for(code),
            enrollment_id=enrollment_id,
            bank_bin=account.bin,
            bank_account_number=account.account_number,
            bank_account_name=account.account_name,
            expires_at=expires_at,
            created_by=created_by,
            details=details or {},
            qr_payload="",
        )
        order.qr_payload = VietQR(
            account.bin, account.account_number, amount=amount, purpose=order.transfer_content
        ).payload()
        try:
            async with session.begin_nested():
                session.add(order)
                await session.flush()
        except IntegrityError as exc:
            if "uq_payment_orders_order_code" not in str(exc.orig):
                raise  # a broken rule, not a code collision: never retried into another error
            continue
        session.add(PaymentOrderEvent(payment_order_id=order.id, from_status=None, to_status=P.PENDING,
                                      actor_id=created_by, reason="created"))  # fmt: skip
        return order
    raise ConflictError("could not draw a free order code; try again")


async def order_by_code(session: AsyncSession, order_code: str, *, for_update: bool = False) -> PaymentOrder:
    query = select(PaymentOrder).where(PaymentOrder.order_code == order_code.strip().upper())
    if for_update:
        query = query.with_for_update().execution_options(populate_existing=True)
    order = await session.scalar(query)
    if order is None:
        raise NotFoundError(f"no payment order {order_code!r}")
    return order


async def visible_order(
    session: AsyncSession, order_code: str, account_id: uuid.UUID, *, is_admin: bool, for_update: bool = False
) -> PaymentOrder:
    """The order when the caller owns its instance (or is an admin); otherwise it does not exist."""
    order = await order_by_code(session, order_code, for_update=for_update)
    if not is_admin:
        owner = await session.scalar(select(Instance.owner_id).where(Instance.id == order.instance_id))
        if owner != account_id:
            raise NotFoundError(f"no payment order {order_code!r}")
    return order


async def cancel_order(session: AsyncSession, order: PaymentOrder, *, actor_id: uuid.UUID) -> None:
    transition(session, order, P.CANCELLED, actor_id=actor_id, reason="cancelled by its owner")
    await session.flush()


async def expire_due_orders(session: AsyncSession, now: datetime, *, limit: int = 500) -> int:
    """PENDING orders past ``expires_at`` become EXPIRED; rows another worker holds are skipped."""
    due = list(
        await session.scalars(
            select(PaymentOrder)
            .where(PaymentOrder.status == P.PENDING, PaymentOrder.expires_at <= now)
            .order_by(PaymentOrder.expires_at)
            .limit(limit)
            .with_for_update(skip_locked=True)
        )
    )
    for order in due:
        transition(session, order, P.EXPIRED, reason="not paid before it expired")
    await session.flush()
    return len(due)


def order_expiry(now: datetime, ttl_hours: int) -> datetime:
    return now + timedelta(hours=ttl_hours)


def order_view(order: PaymentOrder) -> PaymentOrderResponse:
    return PaymentOrderResponse(
        order_code=order.order_code,
        instance_id=order.instance_id,
        type=order.type.value,
        kind=order.kind.value if order.kind else None,
        status=order.status.value,
        tier=order.tier_code,
        months=order.months,
        amount=order.amount,
        amount_received=order.amount_received,
        transfer_content=order.transfer_content,
        qr_payload=order.qr_payload,
        bank=ReceivingBank(
            bin=order.bank_bin, account_number=order.bank_account_number, account_name=order.bank_account_name
        ),
        expires_at=order.expires_at,
        paid_at=order.paid_at,
        created_at=order.created_at,
    )
