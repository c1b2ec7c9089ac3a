"""Money in: record each bank delivery exactly once, match it to an order, pay it, or keep it.

Exactly once: the delivery row is inserted ``ON CONFLICT DO NOTHING`` on (provider, transaction
id). Concurrent copies of one delivery queue on that unique index; the first commits the payment
and every other copy finds the row and changes nothing. The order and the subscription are
locked ``FOR UPDATE`` before they change, so two different transfers for one order cannot both
pay it: the second is kept as ``needs_review``, like underpaid, unmatched or late money.
"""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from kitehub.platform.payments.models import (
    BankProvider,
    BankTransaction,
    BankTransactionStatus,
    PaymentOrder,
    PaymentOrderStatus,
    PaymentOrderType,
    TransferDirection,
)
from kitehub.platform.payments.orders import ORDER_CODE_PATTERN, ReceivingAccount, transition
from kitehub.platform.subscriptions.services import (
    PaymentNotApplicableError,
    applicable_subscription,
    apply_paid_order,
)

T = BankTransactionStatus
_NOT_ALPHANUMERIC = re.compile(r"[^A-Z0-9]")


@dataclass(frozen=True, slots=True)
class Delivery:
    """One credit or debit as a bank-monitoring service reports it."""

    provider: BankProvider
    transaction_id: str
    direction: TransferDirection
    amount: int
    content: str | None
    account_number: str | None
    reference: str | None
    transaction_at: datetime | None
    raw: dict[str, Any]


def order_codes_in(content: str | None) -> list[str]:
    """Every order code in ``content``, in any case, also when a bank glued or split it with
    punctuation ("KITEHUB-KH7X..."); candidates are only ever looked up, never trusted."""
    if not content:
        return []
    upper = content.upper()
    found: dict[str, None] = {}
    for text in (upper, _NOT_ALPHANUMERIC.sub("", upper)):
        for match in re.finditer(f"(?=({ORDER_CODE_PATTERN.pattern}))", text):
            found[match.group(1)] = None
    return list(found)


async def record_delivery(session: AsyncSession, delivery: Delivery) -> BankTransaction | None:
    """The new row, or None when this provider transaction was recorded before (a retry)."""
    transaction_id = await session.scalar(
        insert(BankTransaction)
        .values(
            id=uuid.uuid4(),
            provider=delivery.provider,
            provider_transaction_id=delivery.transaction_id,
            direction=delivery.direction,
            amount=delivery.amount,
            content=delivery.content,
            account_number=delivery.account_number,
            reference_code=delivery.reference,
            transaction_at=delivery.transaction_at,
            raw_payload=delivery.raw,
            status=T.RECEIVED,
        )
        .on_conflict_do_nothing(index_elements=["provider", "provider_transaction_id"])
        .returning(BankTransaction.id)
    )
    if transaction_id is None:
        return None
    return await session.get(BankTransaction, transaction_id)


async def receive(
    session: AsyncSession, delivery: Delivery, *, account: ReceivingAccount | None, now: datetime
) -> BankTransaction | None:
    """Record and settle a delivery; None when it is a repeat (acknowledged, nothing changes)."""
    transaction = await record_delivery(session, delivery)
    if transaction is None:
        return None
    await settle(session, transaction, account=account, now=now)
    await session.flush()
    return transaction


def _review(transaction: BankTransaction, reason: str, order: PaymentOrder | None = None) -> None:
    transaction.status = T.NEEDS_REVIEW
    transaction.review_reason = reason
    if order is not None:
        transaction.payment_order_id = order.id


async def settle(
    session: AsyncSession, transaction: BankTransaction, *, account: ReceivingAccount | None, now: datetime
) -> None:
    """Decide what a new delivery means, in the delivering transaction."""
    if transaction.direction is not TransferDirection.IN:
        transaction.status, transaction.review_reason = T.IGNORED, "money going out pays no order"
        return
    if account is not None and transaction.account_number not in (None, "", account.account_number):
        _review(transaction, f"credited to account {transaction.account_number}, not the platform's")
        return
    codes = order_codes_in(transaction.content)
    orders = list(
        await session.scalars(
            select(PaymentOrder)
            .where(PaymentOrder.order_code.in_(codes))
            .order_by(PaymentOrder.order_code)
            .with_for_update()
            .execution_options(populate_existing=True)
        )
    ) if codes else []  # fmt: skip
    if not orders:
        _review(transaction, "no payment order code in the transfer content")
        return
    if len(orders) > 1:
        _review(transaction, f"several order codes in the content: {', '.join(o.order_code for o in orders)}")
        return
    order = orders[0]
    if order.status is PaymentOrderStatus.PENDING and order.expires_at <= now:
        transition(session, order, PaymentOrderStatus.EXPIRED, reason="not paid before it expired")
    if order.status is not PaymentOrderStatus.PENDING:
        _review(transaction, f"order {order.order_code} is {order.status.value}", order)
        return
    if transaction.amount < order.amount:
        _review(transaction, f"underpaid: {transaction.amount} of {order.amount} VND", order)
        return
    try:
        await pay_order(session, order, transaction=transaction, actor_id=None, now=now,
                        reference=transaction.reference_code)  # fmt: skip
    except PaymentNotApplicableError as exc:  # raised before anything changed
        _review(transaction, exc.detail, order)
        return
    transaction.status, transaction.payment_order_id = T.MATCHED, order.id


async def pay_order(
    session: AsyncSession,
    order: PaymentOrder,
    *,
    transaction: BankTransaction | None,
    actor_id: uuid.UUID | None,
    now: datetime,
    reference: str | None,
    reason: str | None = None,
    admin_override: bool = False,
) -> None:
    """Mark ``order`` PAID and give the subscription what it paid for, together or not at all.

    ``PaymentNotApplicableError`` is raised before anything changes, so the caller may go on.
    """
    if order.type is PaymentOrderType.SUBSCRIPTION:
        await applicable_subscription(session, order, now)
    received = transaction.amount if transaction is not None else order.amount
    note = reason or ("paid by bank transfer" if transaction is not None else "confirmed by an admin")
    if received > order.amount:
        note += f" (overpaid by {received - order.amount} VND)"
    transition(session, order, PaymentOrderStatus.PAID, actor_id=actor_id, reason=note,
               bank_transaction_id=transaction.id if transaction else None, admin_override=admin_override)  # fmt: skip
    order.paid_at, order.paid_reference = now, (reference or None)
    order.amount_received = received
    await session.flush()
    if order.type is PaymentOrderType.SUBSCRIPTION:
        await apply_paid_order(session, order, actor_id=actor_id, now=now)
