"""What admins do with money the platform could not match: apply it, dismiss it, confirm by hand.

Each action is audited with the admin's reason. An admin may still pay an EXPIRED or CANCELLED
order with money that arrived late (the owner did pay); a PAID order is never paid twice.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

from sqlalchemy import ColumnElement, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from kitehub.errors import ConflictError, NotFoundError
from kitehub.platform.audit.services import AuditActor, record
from kitehub.platform.payments.models import BankTransaction, BankTransactionStatus, PaymentOrder, PaymentOrderType
from kitehub.platform.payments.orders import order_by_code
from kitehub.platform.payments.schemas import BankTransactionResponse
from kitehub.platform.payments.settlement import pay_order

T = BankTransactionStatus


async def page_of_bank_transactions(
    session: AsyncSession, status: BankTransactionStatus | None, *, limit: int, offset: int
) -> tuple[list[BankTransactionResponse], int]:
    """Oldest first: the money waiting longest is reviewed first."""
    # the platform's own account only: a school's deliveries are the school's business
    where: list[ColumnElement[bool]] = [BankTransaction.instance_id.is_(None)]
    if status is not None:
        where.append(BankTransaction.status == status)
    total = await session.scalar(select(func.count()).select_from(BankTransaction).where(*where))
    rows = (
        await session.execute(
            select(BankTransaction, PaymentOrder.order_code)
            .outerjoin(PaymentOrder, PaymentOrder.id == BankTransaction.payment_order_id)
            .where(*where)
            .order_by(BankTransaction.received_at, BankTransaction.id)
            .limit(limit)
            .offset(offset)
        )
    ).all()
    return [transaction_view(transaction, code) for transaction, code in rows], int(total or 0)


def transaction_view(transaction: BankTransaction, order_code: str | None) -> BankTransactionResponse:
    return BankTransactionResponse(
        id=transaction.id,
        provider=transaction.provider.value,
        provider_transaction_id=transaction.provider_transaction_id,
        direction=transaction.direction.value,
        amount=transaction.amount,
        account_number=transaction.account_number,
        content=transaction.content,
        reference_code=transaction.reference_code,
        transaction_at=transaction.transaction_at,
        received_at=transaction.received_at,
        status=transaction.status.value,
        review_reason=transaction.review_reason,
        order_code=order_code,
        resolved_at=transaction.resolved_at,
    )


async def _transaction_for_review(session: AsyncSession, transaction_id: uuid.UUID) -> BankTransaction:
    transaction = await session.get(BankTransaction, transaction_id, with_for_update=True, populate_existing=True)
    if transaction is None or transaction.instance_id is not None:
        raise NotFoundError("no such bank transaction")
    if transaction.status is not T.NEEDS_REVIEW:
        raise ConflictError(
            f"the bank transaction is {transaction.status.value}, not needs_review",
            extra={"transaction_status": transaction.status.value},
        )
    return transaction


async def apply_transaction(
    session: AsyncSession, actor: AuditActor, transaction_id: uuid.UUID, order_code: str, reason: str | None
) -> tuple[BankTransaction, PaymentOrder]:
    """Pay ``order_code`` with a reviewed transfer (late, underpaid by the admin's judgement...)."""
    transaction = await _transaction_for_review(session, transaction_id)
    order = await order_by_code(session, order_code, for_update=True)
    if transaction.direction.value != "in":
        raise ConflictError("an outgoing transfer cannot pay an order")
    if transaction.instance_id is not None or order.type is not PaymentOrderType.SUBSCRIPTION:
        raise ConflictError(  # a school's money sits in the school's bank: it pays nothing of the platform
            "only money received on the platform's account can pay a subscription order here",
            extra={"order_type": order.type.value},
        )
    now = datetime.now(UTC)
    await pay_order(session, order, paid_by=(transaction.id, transaction.amount), actor_id=actor.account_id, now=now,
                    reference=transaction.reference_code, admin_override=True,
                    reason=f"applied by an admin: {reason}" if reason else "applied by an admin")  # fmt: skip
    transaction.status, transaction.payment_order_id = T.RESOLVED, order.id
    transaction.resolved_by, transaction.resolved_at = actor.account_id, now
    await session.flush()
    await record(session, actor, "bank_transaction.apply", "bank_transaction", transaction.id,
                 after={"order_code": order.order_code, "amount": transaction.amount, "reason": reason})  # fmt: skip
    return transaction, order


async def dismiss_transaction(
    session: AsyncSession, actor: AuditActor, transaction_id: uuid.UUID, reason: str | None
) -> BankTransaction:
    """Close a reviewed transfer without paying anything (refunded, not ours...)."""
    transaction = await _transaction_for_review(session, transaction_id)
    transaction.status = T.RESOLVED
    transaction.resolved_by, transaction.resolved_at = actor.account_id, datetime.now(UTC)
    transaction.review_reason = f"{transaction.review_reason}; dismissed: {reason or 'no reason given'}"
    await session.flush()
    await record(session, actor, "bank_transaction.dismiss", "bank_transaction", transaction.id,
                 after={"reason": reason})  # fmt: skip
    return transaction


async def confirm_order(
    session: AsyncSession, actor: AuditActor, order_code: str, *, reference: str | None, reason: str | None
) -> PaymentOrder:
    """Mark an order PAID by hand (money seen on the statement, but no webhook delivery)."""
    order = await order_by_code(session, order_code, for_update=True)
    if order.type is not PaymentOrderType.SUBSCRIPTION:
        raise ConflictError("an enrollment fee is paid to the school; the school marks it paid",
                            extra={"order_type": order.type.value})  # fmt: skip
    await pay_order(session, order, paid_by=None, actor_id=actor.account_id, now=datetime.now(UTC),
                    reference=reference, admin_override=True,
                    reason=f"confirmed by an admin: {reason}" if reason else "confirmed by an admin")  # fmt: skip
    await session.flush()
    await record(session, actor, "payment_order.confirm", "payment_order", order.id,
                 after={"order_code": order.order_code, "amount": order.amount, "reference": reference,
                        "reason": reason})  # fmt: skip
    return order
