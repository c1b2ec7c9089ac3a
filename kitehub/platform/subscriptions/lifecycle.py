"""The subscription state machine (ARCHITECTURE.md): the only code that changes a subscription.

Every change, of status or of tier or dates, writes a ``subscription_history`` row with its actor
and reason in the caller's transaction, so the history and the state cannot disagree.
"""

from __future__ import annotations

import calendar
import functools
import uuid
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, cast

from sqlalchemy import String, Table, Text, Uuid, bindparam, func, insert, select, update
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm.attributes import set_committed_value

from kitehub.deferred_writes import deferred_writes
from kitehub.errors import ConflictError
from kitehub.instance_changes import changed
from kitehub.platform.subscriptions.models import Subscription, SubscriptionHistory, SubscriptionStatus

S = SubscriptionStatus
# A status may also "move" to itself: a renewal, a tier change or a flag keeps the status.
ALLOWED_TRANSITIONS: dict[SubscriptionStatus, frozenset[SubscriptionStatus]] = {
    S.TRIAL: frozenset({S.ACTIVE, S.EXPIRED}),
    S.ACTIVE: frozenset({S.PAST_DUE, S.CANCELED}),
    S.PAST_DUE: frozenset({S.ACTIVE, S.EXPIRED}),
    S.EXPIRED: frozenset({S.ACTIVE}),
    S.CANCELED: frozenset({S.ACTIVE}),
}
PAYING = frozenset({S.TRIAL, S.ACTIVE, S.PAST_DUE})


class InvalidSubscriptionTransitionError(ConflictError):
    slug, title = "invalid-subscription-transition", "The subscription cannot make that change now"


def add_months(moment: datetime, months: int) -> datetime:
    """Calendar months, the day clamped to the month's length (31 Jan + 1 month = 28/29 Feb)."""
    month_index = moment.month - 1 + months
    year, month = moment.year + month_index // 12, month_index % 12 + 1
    return moment.replace(year=year, month=month, day=min(moment.day, calendar.monthrange(year, month)[1]))


@dataclass(frozen=True, slots=True)
class Change:
    """One change of a subscription, decided before it is written (the rules are pure)."""

    event: str
    to_status: SubscriptionStatus | None = None
    reason: str | None = None
    details: dict[str, Any] = field(default_factory=dict)
    fields: dict[str, Any] = field(default_factory=dict)


def checked_target(subscription: Subscription, to_status: SubscriptionStatus | None) -> SubscriptionStatus:
    current = subscription.status
    target = to_status or current
    if target is not current and target not in ALLOWED_TRANSITIONS[current]:
        raise InvalidSubscriptionTransitionError(
            f"the subscription is {current.value} and cannot become {target.value}",
            extra={"subscription_status": current.value, "requested_status": target.value},
        )
    return target


def change(
    session: AsyncSession,
    subscription: Subscription,
    *,
    event: str,
    to_status: SubscriptionStatus | None = None,
    actor_id: uuid.UUID | None = None,
    reason: str | None = None,
    payment_order_id: uuid.UUID | None = None,
    details: dict[str, Any] | None = None,
    **fields: Any,
) -> None:
    """Apply ``fields`` (and the status, when given and allowed) and write the history row."""
    current, current_tier = subscription.status, subscription.tier_code
    target = checked_target(subscription, to_status)
    changed(session, subscription.instance_id)
    for name, value in fields.items():
        if not hasattr(Subscription, name):
            raise AttributeError(f"a subscription has no {name!r}")
        setattr(subscription, name, value)
    subscription.status = target
    session.add(
        SubscriptionHistory(
            subscription_id=subscription.id,
            event=event,
            from_status=current,
            to_status=target,
            from_tier_code=current_tier,
            to_tier_code=subscription.tier_code,
            actor_id=actor_id,
            reason=reason,
            payment_order_id=payment_order_id,
            details=details or {},
        )
    )


@functools.cache
def _change_statement(names: tuple[str, ...]) -> Any:
    """One statement per set of changed columns, built once (construction costs more than a run)."""
    table, history = cast(Table, Subscription.__table__), cast(Table, SubscriptionHistory.__table__)
    changed = (
        update(table)
        .where(table.c.id == bindparam("subscription_id"))
        .values({**{name: bindparam(name) for name in names}, "version": table.c.version + 1, "updated_at": func.now()})
        .returning(table.c.id, table.c.tier_code)
        .cte("changed")
    )
    columns = ["subscription_id", "event", "from_status", "to_status", "from_tier_code", "to_tier_code", "actor_id",
               "reason", "payment_order_id", "details"]  # fmt: skip
    source = select(
        changed.c.id,
        bindparam("event", type_=String),
        bindparam("from_status_text", type_=String),
        bindparam("to_status_text", type_=String),
        bindparam("from_tier_code", type_=String),
        changed.c.tier_code,
        bindparam("actor_id", type_=Uuid),
        bindparam("reason", type_=Text),
        bindparam("payment_order_id", type_=Uuid),
        bindparam("details", type_=JSONB),
    )
    return insert(history).from_select(columns, source)


async def write_change(
    session: AsyncSession,
    subscription: Subscription,
    planned: Change,
    *,
    actor_id: uuid.UUID | None,
    payment_order_id: uuid.UUID | None,
) -> None:
    """``change`` as one statement (update and history row together) for the payment hot path.

    The subscription must be locked (``FOR UPDATE``) by the caller; the loaded object is brought
    up to date without being marked dirty, so the session holds no stale copy.
    """
    target = checked_target(subscription, planned.to_status)
    values = {**planned.fields, "status": target}
    changed(session, subscription.instance_id)
    unknown = [name for name in values if not hasattr(Subscription, name)]
    if unknown:
        raise AttributeError(f"a subscription has no {unknown!r}")
    statement = _change_statement(tuple(sorted(values)))
    parameters = {
        **values,
        "subscription_id": subscription.id,
        "event": planned.event,
        "from_status_text": subscription.status.value,
        "to_status_text": target.value,
        "from_tier_code": subscription.tier_code,
        "actor_id": actor_id,
        "reason": planned.reason,
        "payment_order_id": payment_order_id,
        "details": planned.details,
    }
    if (batch := deferred_writes(session)) is not None:
        batch.add(statement, parameters, row=("subscriptions", subscription.id))  # sent with the batch's others
    else:
        await session.execute(statement, parameters)
    for name, value in {**values, "version": subscription.version + 1}.items():
        set_committed_value(subscription, name, value)
