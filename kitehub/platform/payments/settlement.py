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
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, cast

from sqlalchemy import Table, bindparam, func, select, text, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.ext.asyncio import AsyncSession

from kitehub.deferred_writes import flush_deferred
from kitehub.errors import NotFoundError
from kitehub.platform.payments.enrollment_orders import schedule_activation
from kitehub.platform.payments.models import (
    BankProvider,
    BankTransaction,
    BankTransactionStatus,
    PaymentOrder,
    PaymentOrderEvent,
    PaymentOrderKind,
    PaymentOrderStatus,
    PaymentOrderType,
    TransferDirection,
)
from kitehub.platform.payments.order_lifecycle import supersede_upgrades, transition, write_paid
from kitehub.platform.payments.order_locks import NamedOrder, lock_named_orders
from kitehub.platform.payments.orders import ORDER_CODE_PATTERN, ReceivingAccount
from kitehub.platform.subscriptions.models import Subscription
from kitehub.platform.subscriptions.services import (
    PaymentNotApplicableError,
    applicable_subscription,
    apply_paid_order,
    why_not_applicable,
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
    for candidate in (upper, _NOT_ALPHANUMERIC.sub("", upper)):
        for match in re.finditer(f"(?=({ORDER_CODE_PATTERN.pattern}))", candidate):
            found[match.group(1)] = None
    return list(found)


# the expression of uq_bank_transactions_provider_scope_transaction (the ON CONFLICT target)
_SCOPE = text("coalesce(instance_id, '00000000-0000-0000-0000-000000000000'::uuid)")


def _statements() -> tuple[Any, Any]:
    """Built once: on the hot path, building a statement costs more CPU than running it."""
    table = cast(Table, BankTransaction.__table__)
    columns = ("id", "provider", "provider_transaction_id", "instance_id", "direction", "amount", "content",
               "account_number", "reference_code", "transaction_at", "raw_payload")  # fmt: skip
    record = (
        pg_insert(table)
        .values({name: bindparam(name) for name in columns})
        .on_conflict_do_nothing(index_elements=["provider", _SCOPE, "provider_transaction_id"])
        .returning(table.c.id)
    )
    outcome = (
        update(table)
        .where(table.c.id == bindparam("transaction_id"))
        .values(
            status=bindparam("status"),
            review_reason=bindparam("review_reason"),
            payment_order_id=bindparam("payment_order_id"),
            version=table.c.version + 1,
            updated_at=func.now(),
        )
    )
    return record, outcome


RECORD, OUTCOME = _statements()  # shared with settlement_batch


@dataclass(frozen=True, slots=True)
class Outcome:
    """What a delivery turned out to be."""

    status: BankTransactionStatus
    reason: str | None = None
    order_id: uuid.UUID | None = None


def record_parameters(transaction_id: uuid.UUID, delivery: Delivery, instance_id: uuid.UUID | None) -> dict[str, Any]:
    """The row ``RECORD`` inserts for ``delivery``."""
    return {
        "id": transaction_id,
        "provider": delivery.provider,
        "provider_transaction_id": delivery.transaction_id,
        "direction": delivery.direction,
        "amount": delivery.amount,
        "content": delivery.content,
        "account_number": delivery.account_number,
        "reference_code": delivery.reference,
        "transaction_at": delivery.transaction_at,
        "raw_payload": delivery.raw,
        "instance_id": instance_id,
    }


def outcome_parameters(transaction_id: uuid.UUID, outcome: Outcome) -> dict[str, Any]:
    """What ``OUTCOME`` writes on the delivery's row once it is settled."""
    return {"transaction_id": transaction_id, "status": outcome.status, "review_reason": outcome.reason,
            "payment_order_id": outcome.order_id}  # fmt: skip


async def record_delivery(
    session: AsyncSession, delivery: Delivery, instance_id: uuid.UUID | None = None
) -> uuid.UUID | None:
    """The new row's id, or None when this provider transaction was recorded before (a retry)."""
    recorded: uuid.UUID | None = await session.scalar(RECORD, record_parameters(uuid.uuid4(), delivery, instance_id))
    return recorded


async def receive(
    session: AsyncSession,
    delivery: Delivery,
    *,
    account: ReceivingAccount | None,
    now: datetime,
    instance_id: uuid.UUID | None = None,
) -> Outcome | None:
    """Record and settle a delivery; None when it is a repeat (acknowledged, nothing changes).

    ``instance_id``: the delivery came from that school's own webhook (its enrollment fees).
    """
    transaction_id = await record_delivery(session, delivery, instance_id)
    if transaction_id is None:
        return None
    outcome = await settle(session, transaction_id, delivery, account=account, now=now, instance_id=instance_id)
    await session.execute(OUTCOME, outcome_parameters(transaction_id, outcome))
    return outcome


def _review(reason: str, order: PaymentOrder | None = None) -> Outcome:
    return Outcome(T.NEEDS_REVIEW, reason, order.id if order is not None else None)


def payable_type(instance_id: uuid.UUID | None) -> PaymentOrderType:
    """The platform's account (no instance) pays subscriptions; a school's own account, only its
    enrollment fees."""
    return PaymentOrderType.SUBSCRIPTION if instance_id is None else PaymentOrderType.ENROLLMENT


def screen(delivery: Delivery, account: ReceivingAccount | None) -> Outcome | list[str]:
    """The outcome of a delivery that can pay no order whatever the orders say; otherwise the
    order codes its content names (to be looked up and locked)."""
    if delivery.direction is not TransferDirection.IN:
        return Outcome(T.IGNORED, "money going out pays no order")
    if account is not None and delivery.account_number not in (None, "", account.account_number):
        return _review(f"credited to account {delivery.account_number}, not the one this webhook is for")
    return order_codes_in(delivery.content)


async def settle(
    session: AsyncSession,
    transaction_id: uuid.UUID,
    delivery: Delivery,
    *,
    account: ReceivingAccount | None,
    now: datetime,
    instance_id: uuid.UUID | None = None,
) -> Outcome:
    """Decide what a new delivery means, in the delivering transaction."""
    screened = screen(delivery, account)
    if isinstance(screened, Outcome):
        return screened
    named = await lock_named_orders(session, screened, order_type=payable_type(instance_id), instance_id=instance_id)
    return await settle_with(session, transaction_id, delivery, [named[code] for code in sorted(named)], now=now)


async def settle_with(
    session: AsyncSession,
    transaction_id: uuid.UUID,
    delivery: Delivery,
    orders_named: Sequence[NamedOrder],
    *,
    now: datetime,
) -> Outcome:
    """Settle a new delivery against the orders its content names that its account may pay,
    each with its subscription, locked by the caller (``lock_named_orders``), by order code."""
    orders = [order for order, _ in orders_named]
    if not orders:
        return _review("no payment order code in the transfer content")
    if len(orders) > 1:
        return _review(f"several order codes in the content: {', '.join(o.order_code for o in orders)}")
    order = orders[0]
    if order.status is PaymentOrderStatus.PENDING and order.expires_at <= now:
        transition(session, order, PaymentOrderStatus.EXPIRED, reason="not paid before it expired")
    if order.status is not PaymentOrderStatus.PENDING:
        return _review(await _why_not_pending(session, order), order)
    if delivery.amount < order.amount:
        return _review(f"underpaid: {delivery.amount} of {order.amount} VND", order)
    if order.type is PaymentOrderType.ENROLLMENT and await _enrollment_paid_already(session, order):
        return _review(f"the enrollment of order {order.order_code} was paid by another order", order)
    try:
        await pay_order(session, order, paid_by=(transaction_id, delivery.amount), actor_id=None, now=now,
                        reference=delivery.reference, subscription=orders_named[0][1])  # fmt: skip
    except (PaymentNotApplicableError, NotFoundError) as exc:  # raised before anything changed
        return _review(exc.detail, order)
    return Outcome(T.MATCHED, None, order.id)


async def _why_not_pending(session: AsyncSession, order: PaymentOrder) -> str:
    """What an admin reviewing the money needs: the order's status, and why it was cancelled."""
    reason = f"order {order.order_code} is {order.status.value}"
    if order.status is PaymentOrderStatus.CANCELLED:
        cancelled = await session.scalar(
            select(PaymentOrderEvent.reason)
            .where(PaymentOrderEvent.payment_order_id == order.id, PaymentOrderEvent.to_status == order.status)
            .order_by(PaymentOrderEvent.id.desc())
            .limit(1)
        )
        reason += f" ({cancelled})" if cancelled else ""
    return reason


async def _enrollment_paid_already(session: AsyncSession, order: PaymentOrder) -> bool:
    await flush_deferred(session)  # another order of this enrollment may be paid earlier in the batch
    paid = await session.scalar(
        select(PaymentOrder.id).where(
            PaymentOrder.enrollment_id == order.enrollment_id,
            PaymentOrder.type == PaymentOrderType.ENROLLMENT,
            PaymentOrder.status == PaymentOrderStatus.PAID,
            PaymentOrder.id != order.id,
        )
    )
    return paid is not None


async def pay_order(
    session: AsyncSession,
    order: PaymentOrder,
    *,
    paid_by: tuple[uuid.UUID, int] | None,
    actor_id: uuid.UUID | None,
    now: datetime,
    reference: str | None,
    reason: str | None = None,
    admin_override: bool = False,
    subscription: Subscription | None = None,
) -> None:
    """Mark ``order`` PAID and give the subscription what it paid for, together or not at all.

    ``PaymentNotApplicableError`` is raised before anything changes, so the caller may go on.
    """
    if order.type is not PaymentOrderType.SUBSCRIPTION:
        subscription = None  # an enrollment fee buys no platform time
    elif subscription is None:
        subscription = await applicable_subscription(session, order, now)
    elif (problem := why_not_applicable(subscription, order, now)) is not None:
        raise PaymentNotApplicableError(problem, extra={"order_code": order.order_code})
    bank_transaction_id, received = paid_by if paid_by is not None else (None, order.amount)
    note = reason or ("paid by bank transfer" if paid_by is not None else "confirmed by an admin")
    if received > order.amount:
        note += f" (overpaid by {received - order.amount} VND)"
    await write_paid(session, order, paid_at=now, reference=reference or None, amount_received=received,
                     actor_id=actor_id, bank_transaction_id=bank_transaction_id, reason=note,
                     admin_override=admin_override)  # fmt: skip
    if subscription is not None:
        await apply_paid_order(session, order, subscription, actor_id=actor_id, now=now)
        if order.kind is PaymentOrderKind.PERIOD:  # any paid period moves the period's end
            await supersede_upgrades(session, order, actor_id=actor_id)
    elif order.type is PaymentOrderType.ENROLLMENT:
        await schedule_activation(session, order)
