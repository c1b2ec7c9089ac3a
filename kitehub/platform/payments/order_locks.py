"""The orders a transfer names, and the subscriptions they pay for, locked in one order everywhere.

Why the order matters: a batch of deliveries locks several orders at once, other batches and
admins lock others, and two transactions that take two rows in opposite orders wait for each
other until PostgreSQL aborts one. So every payment path locks the same way: orders first, by
(instance, order code), then the subscriptions of the SUBSCRIPTION orders among them, by instance
(the admin paths lock an order, then its subscription: the same direction).
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from typing import Any

from sqlalchemy import String, Uuid, any_, bindparam, select
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.ext.asyncio import AsyncSession

from kitehub.platform.payments.models import PaymentOrder, PaymentOrderType
from kitehub.platform.subscriptions.models import Subscription

NamedOrder = tuple[PaymentOrder, Subscription | None]  # an enrollment order has no subscription to credit


def _orders(order_type: PaymentOrderType | None, *, of_instance: bool) -> Any:
    query = (
        select(PaymentOrder)
        .where(PaymentOrder.order_code == any_(bindparam("codes", type_=ARRAY(String))))
        .order_by(PaymentOrder.instance_id, PaymentOrder.order_code)
        .with_for_update()
    )
    if order_type is not None:
        query = query.where(PaymentOrder.type == order_type)
    return query.where(PaymentOrder.instance_id == bindparam("instance_id")) if of_instance else query


_ORDERS = {
    (order_type, of_instance): _orders(order_type, of_instance=of_instance)
    for order_type in (None, *PaymentOrderType)
    for of_instance in (False, True)
}
_SUBSCRIPTIONS = (
    select(Subscription)
    .where(Subscription.instance_id == any_(bindparam("instance_ids", type_=ARRAY(Uuid()))))
    .order_by(Subscription.instance_id)
    .with_for_update()
)


async def lock_named_orders(
    session: AsyncSession,
    codes: Iterable[str],
    *,
    order_type: PaymentOrderType | None = None,
    instance_id: uuid.UUID | None = None,
) -> dict[str, NamedOrder]:
    """The orders among ``codes`` (of ``order_type``, of ``instance_id`` when given), each with the
    subscription it pays for, all locked until the transaction ends; by order code."""
    wanted = sorted(set(codes))
    if not wanted:
        return {}
    statement = _ORDERS[(order_type, instance_id is not None)]
    orders = list((await session.scalars(statement, {"codes": wanted, "instance_id": instance_id})).all())
    paying = sorted({order.instance_id for order in orders if order.type is PaymentOrderType.SUBSCRIPTION})
    subscriptions: dict[uuid.UUID, Subscription] = {}
    if paying:
        locked = await session.scalars(_SUBSCRIPTIONS, {"instance_ids": paying})
        subscriptions = {subscription.instance_id: subscription for subscription in locked}
    return {order.order_code: (order, subscriptions.get(order.instance_id)) for order in orders}
