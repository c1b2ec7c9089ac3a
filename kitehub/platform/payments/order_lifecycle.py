"""The payment-order state machine: the only code that changes an order's status.

``PENDING -> PAID | EXPIRED | CANCELLED``; an admin holding money that arrived late may still pay
an EXPIRED or CANCELLED order. Every change writes a ``payment_order_events`` row in the same
transaction (``write_paid`` and ``supersede_upgrades``: in the same statement, for the payment
hot path).
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any, cast

from sqlalchemy import String, Table, Text, Uuid, bindparam, func, insert, literal, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm.attributes import set_committed_value

from kitehub.deferred_writes import deferred_writes
from kitehub.errors import ConflictError
from kitehub.platform.payments.models import PaymentOrder, PaymentOrderEvent, PaymentOrderKind, PaymentOrderStatus

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
            extra={"order_status": current.value, "requested_status": to_status.value},
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


def _pay_statement(*, returning: bool) -> Any:
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
    statement = insert(events).from_select(columns, source)
    return statement.returning(events.c.id) if returning else statement


_PAY_STATEMENT = _pay_statement(returning=True)
_PAY_DEFERRED = _pay_statement(returning=False)  # sent with a batch's other payments (executemany)


async def _each_paid(session: AsyncSession, order_ids: list[uuid.UUID]) -> None:
    """After a batch's deferred payments: each order got its PAID event (an order is paid once)."""
    events = cast(Table, PaymentOrderEvent.__table__)
    paid = await session.scalar(
        select(func.count()).where(events.c.payment_order_id.in_(order_ids), events.c.to_status == P.PAID.value)
    )
    if paid != len(set(order_ids)):  # cannot happen under the caller's locks; never pay on a guess
        raise OrderStateError("a payment order changed while a batch of payments was being written")


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
    without being marked dirty. In a batch (``deferring``), the statement is sent with the
    batch's other payments.
    """
    current = order.status
    checked_target(order, P.PAID, admin_override=admin_override)
    values = {"status": P.PAID, "paid_at": paid_at, "paid_reference": reference, "amount_received": amount_received}
    parameters = {
        **values,
        "order_id": order.id,
        "current_status": current,
        "from_status_text": current.value,
        "actor_id": actor_id,
        "bank_transaction_id": bank_transaction_id,
        "reason": reason,
    }
    if (batch := deferred_writes(session)) is not None:
        batch.add(_PAY_DEFERRED, parameters, row=("payment_orders", order.id))
        batch.check(_each_paid, order.id)
    elif (await session.execute(_PAY_STATEMENT, parameters)).first() is None:
        # cannot happen under the caller's lock; never pay on a guess
        raise OrderStateError(f"payment order {order.order_code} changed while it was being paid")
    for name, value in {**values, "version": order.version + 1}.items():
        set_committed_value(order, name, value)


def _supersede_statement() -> Any:
    """Built once: the instance's PENDING upgrades become CANCELLED, each with its event."""
    table, events = cast(Table, PaymentOrder.__table__), cast(Table, PaymentOrderEvent.__table__)
    waiting = (
        select(table.c.id)
        .where(
            table.c.instance_id == bindparam("of_instance", type_=Uuid),
            table.c.kind == bindparam("waiting_kind"),
            table.c.status == bindparam("current_status"),
        )
        .with_for_update(skip_locked=True)
    )
    superseded = (
        update(table)
        .where(table.c.id.in_(waiting))
        .values(status=bindparam("status"), version=table.c.version + 1, updated_at=func.now())
        .returning(table.c.id)
        .cte("superseded")
    )
    columns = ["payment_order_id", "from_status", "to_status", "actor_id", "bank_transaction_id", "reason"]
    source = select(
        superseded.c.id,
        bindparam("from_status_text", type_=String),
        bindparam("to_status_text", type_=String),
        bindparam("actor_id", type_=Uuid),
        bindparam("bank_transaction_id", type_=Uuid),
        bindparam("reason", type_=Text),
    )
    return insert(events).from_select(columns, source)


_SUPERSEDE = _supersede_statement()


async def _supersede_each(session: AsyncSession, renewals: list[dict[str, Any]]) -> None:
    await session.execute(_SUPERSEDE, renewals)


async def supersede_upgrades(session: AsyncSession, renewal: PaymentOrder, *, actor_id: uuid.UUID | None) -> None:
    """A paid renewal moved the period's end, so the instance's PENDING upgrade orders, priced for
    the days left in the old period, no longer fit: they become CANCELLED (with the reason in their
    history), and the owner asks for an upgrade priced for the new period.

    This keeps what an owner sees honest; what keeps the money safe is the rule itself
    (``why_not_applicable``: an upgrade applies only to the period it was priced for). So an
    upgrade another transaction is paying at this moment is skipped rather than waited for (that
    transaction locked the order before the subscription: waiting would be a lock cycle); its
    money waits for review. In a batch, this runs after the batch's payments are written, so an
    upgrade paid earlier in the batch stays PAID.
    """
    parameters = {
        "of_instance": renewal.instance_id,
        "waiting_kind": PaymentOrderKind.UPGRADE,
        "current_status": P.PENDING,
        "status": P.CANCELLED,
        "from_status_text": P.PENDING.value,
        "to_status_text": P.CANCELLED.value,
        "actor_id": actor_id,
        "bank_transaction_id": None,
        "reason": f"superseded: renewal {renewal.order_code} was paid, so the period this upgrade was priced "
        "for changed; ask for a new upgrade",
    }
    if (batch := deferred_writes(session)) is not None:
        batch.check(_supersede_each, parameters)
    else:
        await _supersede_each(session, [parameters])
