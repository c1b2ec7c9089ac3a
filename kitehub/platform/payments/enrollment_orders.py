"""Enrollment fees: payment orders paid to the school's own bank account, not the platform's.

The transfer content starts with the order code (so the school's webhook can match it), followed
by the school's template (``HOCPHI {courseId} {studentName}`` by default), made bank-safe and cut
to 25 characters. One PENDING order per enrollment (a unique index): asking again returns it,
and an order whose fee changed is cancelled when the new one is made.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from kitehub.errors import ConflictError
from kitehub.jobs import enqueue_many
from kitehub.platform.instances.models import Instance
from kitehub.platform.payments.models import PaymentOrder, PaymentOrderStatus, PaymentOrderType
from kitehub.platform.payments.order_lifecycle import transition
from kitehub.platform.payments.orders import ReceivingAccount, create_order, order_expiry
from kitehub.platform.payments.vietqr import normalise_transfer_content

DEFAULT_TEMPLATE = "HOCPHI {courseId} {studentName}"
QUEUE = "billing"
ACTIVATE_ENROLLMENT = "billing.activate_enrollment"


def enrollment_content(template: str | None, order_code: str, course_id: uuid.UUID, student_name: str) -> str:
    rendered = (
        (template or DEFAULT_TEMPLATE)
        .replace("{orderCode}", "")
        .replace("{courseId}", course_id.hex[:6].upper())
        .replace("{studentName}", student_name)
    )
    return normalise_transfer_content(f"{order_code} {rendered}")


def school_account(instance: Instance) -> ReceivingAccount:
    if not (instance.bank_bin and instance.bank_account_number and instance.bank_account_name):
        raise ConflictError(
            f"set the school's bank account first (PUT /api/v1/instances/{instance.id}/bank-account)",
            extra={"field": "bank_account"},
        )
    return ReceivingAccount(instance.bank_bin, instance.bank_account_number, instance.bank_account_name)


async def enrollment_order(
    session: AsyncSession,
    instance: Instance,
    *,
    enrollment_id: uuid.UUID,
    amount: int,
    course_id: uuid.UUID,
    student_name: str,
    ttl_hours: int,
) -> PaymentOrder:
    account = school_account(instance)
    now = datetime.now(UTC)
    waiting = await pending_orders_of(session, instance.id, enrollment_id)
    for order in waiting:
        if order.amount == amount and order.expires_at > now:
            return order  # the same fee, still payable: the same QR code
        transition(session, order, PaymentOrderStatus.CANCELLED, reason="superseded: the fee or its time changed")
    await session.flush()
    try:
        order = await create_order(
            session,
            instance=instance,
            order_type=PaymentOrderType.ENROLLMENT,
            kind=None,
            amount=amount,
            account=account,
            expires_at=order_expiry(now, ttl_hours),
            created_by=None,
            enrollment_id=enrollment_id,
            content_for=lambda code: enrollment_content(instance.qr_template, code, course_id, student_name),
        )
    except IntegrityError:  # the same request at the same moment made it first (one waiting order each)
        raced = await pending_orders_of(session, instance.id, enrollment_id)
        if not raced:
            raise
        return raced[0]
    await session.flush()
    await session.refresh(order)
    return order


async def pending_orders_of(
    session: AsyncSession, instance_id: uuid.UUID, enrollment_id: uuid.UUID
) -> list[PaymentOrder]:
    return list(
        await session.scalars(
            select(PaymentOrder)
            .where(
                PaymentOrder.instance_id == instance_id,
                PaymentOrder.type == PaymentOrderType.ENROLLMENT,
                PaymentOrder.enrollment_id == enrollment_id,
                PaymentOrder.status == PaymentOrderStatus.PENDING,
            )
            .with_for_update()
            .execution_options(populate_existing=True)
        )
    )


async def cancel_waiting(session: AsyncSession, instance_id: uuid.UUID, enrollment_id: uuid.UUID, reason: str) -> None:
    """No QR code of this enrollment stays payable (it was paid by hand, or it ended)."""
    for order in await pending_orders_of(session, instance_id, enrollment_id):
        transition(session, order, PaymentOrderStatus.CANCELLED, reason=reason)
    await session.flush()


async def schedule_activation(session: AsyncSession, order: PaymentOrder) -> None:
    """The tenant's enrollment turns ACTIVE in a job committed with the payment (retried until done)."""
    assert order.enrollment_id is not None
    args = {
        "instance_id": str(order.instance_id),
        "enrollment_id": str(order.enrollment_id),
        "order_code": order.order_code,
        "paid_at": (order.paid_at or datetime.now(UTC)).isoformat(),
    }
    await enqueue_many(session, ACTIVATE_ENROLLMENT, queue=QUEUE, jobs=[(args, f"enrollments:{order.instance_id}")])
