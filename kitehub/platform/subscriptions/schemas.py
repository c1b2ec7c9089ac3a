"""Subscription request and response bodies."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, Field

from kitehub.platform.payments.schemas import PaymentOrderResponse
from kitehub.schemas import StrictBody


class SubscriptionResponse(BaseModel):
    status: str
    tier: str
    current_period_start: datetime | None
    current_period_end: datetime | None
    trial_end: datetime | None
    grace_until: datetime | None = Field(description="PAST_DUE: when access turns read-only")
    cancel_at_period_end: bool
    scheduled_tier: str | None = Field(description="a downgrade that applies at period end")


class ChangeTierRequest(StrictBody):
    tier: str = Field(min_length=1, max_length=32, examples=["PREMIUM"])


class TierChangeResponse(BaseModel):
    outcome: str = Field(
        description="payment_required (an upgrade: pay the order), scheduled (a downgrade at period end),"
        " changed (during a trial), unscheduled (a scheduled downgrade withdrawn), unchanged"
    )
    subscription: SubscriptionResponse
    payment_order: PaymentOrderResponse | None = None
