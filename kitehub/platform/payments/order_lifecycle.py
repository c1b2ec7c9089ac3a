"""The payment-order state machine: the only code that changes an order's status.

``PENDING -> PAID | EXPIRED | CANCELLED``; an admin holding money that arrived late may still pay
an EXPIRED or CANCELLED order. Every change writes a ``payment_order_events`` row in the same
transaction (``write_paid``: in the same statement, for the payment hot path).
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any, cast

from sqlalchemy import String, Table, Text, Uuid, bindparam, func, insert, literal, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm.attributes import set_committed_value

from kitehub.errors import ConflictError
from kitehub.platform.payments.models import PaymentOrder, PaymentOrderEvent, PaymentOrderStatus

P = PaymentOrderStatus
ALLOWED_TRANSITIONS: dict[PaymentOrderStatus, frozenset[PaymentOrderStatus]] = {
    P.PENDING: frozenset({P.PAID, P.EXPIRED, P.CANCELLED}),
    P.PAID: frozenset(),
    P.EXPIRED: frozenset(),
    P.CANCELLED: frozenset(),
}
# Only an admin, holding money that arrived late, may still turn these into PAID.
ADMIN_OVERRIDE = frozenset({P.EXPIRED, P.CANCELLED})


class OrderStateError(ConflictError):
    slug, title = "invalid-order-transition", "The payment order cannot make that change now"


def checked_target(order: PaymentOrder, to_status: PaymentOrderStatus, *, admin_override: bool = False) -> None:
    """Refuse a change the state machine does not allow (409)."""
    current = order.status
    allowed = ALLOWED_TRANSITIONS[current] | ({P.PAID} if admin_override and current in ADMIN_OVERRIDE else set())
    if to_status not in allowed:
        raise OrderStateError(
            f"payment order {order.order_code} is {current.value} and cannot become {to_status.value}",
            extra={"status": current.value, "requested_status": to_status.value},
        )


def transition(
    session: AsyncSession,
    order: PaymentOrder,
    to_status: PaymentOrderStatus,
    *,
    actor_id: uuid.UUID | None = None,
    bank_transaction_id: uuid.UUID | None = None,
    reason: str | None = None,
    admin_override: bool = False,
) -> None:
    current = order.status
    checked_target(order, to_status, admin_override=admin_override)
    order.status = to_status
    session.add(
        PaymentOrderEvent(
            payment_order_id=order.id,
            from_status=current,
            to_status=to_status,
            actor_id=actor_id,
            bank_transaction_id=bank_transaction_id,
            reason=reason,
        )
    )


def _pay_statement() -> Any:
    """Built once: constructing a statement costs more CPU than running it (the hot path)."""
    table, events = cast(Table, PaymentOrder.__table__), cast(Table, PaymentOrderEvent.__table__)
    paid = (
        update(table)
        .where(table.c.id == bindparam("order_id"), table.c.status == bindparam("current_status"))
        .values(
            status=bindparam("status"),
            paid_at=bindparam("paid_at"),
            paid_reference=bindparam("paid_reference"),
            amount_received=bindparam("amount_received"),
            version=table.c.version + 1,
            updated_at=func.now(),
        )
        .returning(table.c.id)
        .cte("paid")
    )
    columns = ["payment_order_id", "from_status", "to_status", "actor_id", "bank_transaction_id", "reason"]
    source = select(
        paid.c.id,
        bindparam("from_status_text", type_=String),
        literal(P.PAID.value),
        bindparam("actor_id", type_=Uuid),
        bindparam("bank_transaction_id", type_=Uuid),
        bindparam("reason", type_=Text),
    )
    return insert(events).from_select(columns, source).returning(events.c.id)


_PAY_STATEMENT = _pay_statement()


async def write_paid(
    session: AsyncSession,
    order: PaymentOrder,
    *,
    paid_at: datetime,
    reference: str | None,
    amount_received: int,
    actor_id: uuid.UUID | None,
    bank_transaction_id: uuid.UUID | None,
    reason: str,
    admin_override: bool = False,
) -> None:
    """PENDING (or, for an admin, EXPIRED/CANCELLED) -> PAID and its event, in one statement.

    The payment hot path: the order is locked by the caller; the loaded object is updated
    without being marked dirty.
    """
    current = order.status
    checked_target(order, P.PAID, admin_override=admin_override)
    values = {"status": P.PAID, "paid_at": paid_at, "paid_reference": reference, "amount_received": amount_received}
    inserted = await session.execute(
        _PAY_STATEMENT,
        {
            **values,
            "order_id": order.id,
            "current_status": current,
            "from_status_text": current.value,
            "actor_id": actor_id,
            "bank_transaction_id": bank_transaction_id,
            "reason": reason,
        },
    )
    if inserted.first() is None:  # cannot happen under the caller's lock; never pay on a guess
        raise OrderStateError(f"payment order {order.order_code} changed while it was being paid")
    for name, value in {**values, "version": order.version + 1}.items():
        set_committed_value(order, name, value)
