"""Billing rules that need no server: calendar months, order codes in bank text, state machines."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

import pytest
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from kitehub.platform.payments import orders
from kitehub.platform.payments.models import PaymentOrderKind, PaymentOrderType
from kitehub.platform.payments.orders import ORDER_CODE_PATTERN, ReceivingAccount, create_order, new_order_code
from kitehub.platform.payments.settlement import order_codes_in
from kitehub.platform.subscriptions.lifecycle import InvalidSubscriptionTransitionError, add_months, change
from kitehub.platform.subscriptions.models import Subscription, SubscriptionStatus
from tests.conftest import TenantFactory


def test_months_are_calendar_months_clamped_to_the_month_end() -> None:
    assert add_months(datetime(2026, 1, 31, 9, tzinfo=UTC), 1) == datetime(2026, 2, 28, 9, tzinfo=UTC)
    assert add_months(datetime(2028, 1, 31, tzinfo=UTC), 1) == datetime(2028, 2, 29, tzinfo=UTC)
    assert add_months(datetime(2026, 11, 21, tzinfo=UTC), 2) == datetime(2027, 1, 21, tzinfo=UTC)
    assert add_months(datetime(2026, 3, 15, tzinfo=UTC), 12) == datetime(2027, 3, 15, tzinfo=UTC)


def test_generated_codes_fit_the_pattern_and_bank_content() -> None:
    code = new_order_code()
    assert ORDER_CODE_PATTERN.fullmatch(code)
    assert len(f"KITEHUB {code}") <= 19  # the shortest limit some gateways apply


@pytest.mark.parametrize(
    ("content", "found"),
    [
        ("KITEHUB KH2345678A", ["KH2345678A"]),
        ("kitehub kh2345678a", ["KH2345678A"]),
        ("MBVCB.3312.KITEHUB-KH2345678A.CT tu 0071", ["KH2345678A"]),
        ("KITEHUBKH2345678AFT26325", ["KH2345678A"]),
        ("KH23 4567 8A", ["KH2345678A"]),  # a bank that split it
        ("chuyen tien hoc phi", []),
        ("", []),
        (None, []),
    ],
)
def test_order_codes_are_found_wherever_the_bank_put_them(content: str | None, found: list[str]) -> None:
    candidates = order_codes_in(content)
    assert set(found) <= set(candidates)
    assert candidates if found else candidates == []


def test_a_subscription_cannot_skip_the_state_machine() -> None:
    subscription = Subscription(id=uuid.uuid4(), status=SubscriptionStatus.TRIAL, tier_code="BASIC")

    class Recorder:
        def add(self, _: object) -> None:
            return None

    with pytest.raises(InvalidSubscriptionTransitionError):
        change(Recorder(), subscription, event="x", to_status=SubscriptionStatus.PAST_DUE)  # type: ignore[arg-type]
    with pytest.raises(InvalidSubscriptionTransitionError):
        change(Recorder(), subscription, event="x", to_status=SubscriptionStatus.CANCELED)  # type: ignore[arg-type]
    assert subscription.status is SubscriptionStatus.TRIAL


async def test_a_code_collision_draws_another_code(
    make_tenant: TenantFactory, platform_sessions: async_sessionmaker[AsyncSession], monkeypatch: pytest.MonkeyPatch
) -> None:
    instance = await make_tenant(provision=False)
    drawn = iter(["KHAAAAAAAA", "KHAAAAAAAA", "KHBBBBBBBB"])
    monkeypatch.setattr(orders, "new_order_code", lambda: next(drawn))
    account = ReceivingAccount("970436", "0071000888999", "KITEHUB")
    codes = []
    async with platform_sessions() as session, session.begin():
        for _ in range(2):
            order = await create_order(
                session, instance=instance, order_type=PaymentOrderType.SUBSCRIPTION, kind=PaymentOrderKind.PERIOD,
                amount=199_000, account=account, expires_at=datetime(2030, 1, 1, tzinfo=UTC), created_by=None,
                tier_code="BASIC", months=1,
            )  # fmt: skip
            codes.append(order.order_code)
    assert codes == ["KHAAAAAAAA", "KHBBBBBBBB"]
