"""The subscription state machine (ARCHITECTURE.md): the only code that changes a subscription.

Every change, of status or of tier or dates, writes a ``subscription_history`` row with its actor
and reason in the caller's transaction, so the history and the state cannot disagree.
"""

from __future__ import annotations

import calendar
import uuid
from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from kitehub.errors import ConflictError
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
    target = to_status or current
    if target is not current and target not in ALLOWED_TRANSITIONS[current]:
        raise InvalidSubscriptionTransitionError(
            f"the subscription is {current.value} and cannot become {target.value}",
            extra={"status": current.value, "requested_status": target.value},
        )
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
