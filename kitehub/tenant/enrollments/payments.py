"""An enrollment's fee: ordered through the platform's payment orders, paid to the school's account.

Paying flips the enrollment to ACTIVE. From the school's webhook that happens in a job (the
platform commits the payment and the job together, and the job is retried until the tenant
database has it); when the school marks it paid by hand, at once.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

from sqlalchemy.ext.asyncio import AsyncSession

from kitehub.errors import ConflictError
from kitehub.platform.audit.services import AuditActor, record
from kitehub.platform.instances.models import Instance
from kitehub.platform.payments.enrollment_orders import cancel_waiting, enrollment_order
from kitehub.platform.payments.models import PaymentOrder, PaymentOrderStatus, PaymentOrderType
from kitehub.platform.payments.orders import order_by_code
from kitehub.platform.payments.settlement import pay_order
from kitehub.tenant.courses.models import Course
from kitehub.tenant.enrollments.services import one_enrollment
from kitehub.tenant.students.models import Enrollment, EnrollmentStatus, Student

E = EnrollmentStatus


async def fee_details(session: AsyncSession, enrollment: Enrollment) -> tuple[int, uuid.UUID, str]:
    """(fee, course id, student name) of an enrollment still waiting for its fee."""
    if enrollment.status is not E.PENDING:
        raise ConflictError(f"the enrollment is {enrollment.status.value}: there is no fee to pay",
                            extra={"enrollment_status": enrollment.status.value})  # fmt: skip
    course = await session.get(Course, enrollment.course_id)
    student = await session.get(Student, enrollment.student_id)
    assert course is not None
    assert student is not None
    if course.fee <= 0:
        raise ConflictError("the course is free")
    return course.fee, course.id, student.full_name


def remember_order(enrollment: Enrollment, order_code: str) -> None:
    enrollment.payment_reference = order_code


async def activate_paid(
    session: AsyncSession, enrollment_id: uuid.UUID, *, order_code: str | None, paid_at: datetime
) -> Enrollment | None:
    """PENDING -> ACTIVE with the payment noted; again is a no-op. None when it no longer exists."""
    enrollment = await session.get(Enrollment, enrollment_id, with_for_update=True, populate_existing=True)
    if enrollment is None:
        return None
    if enrollment.paid_at is None:
        enrollment.paid_at = paid_at
        enrollment.payment_reference = order_code or enrollment.payment_reference
    if enrollment.status is E.PENDING:
        enrollment.status = E.ACTIVE
    await session.flush()
    return enrollment


async def order_fee(
    tenant_session: AsyncSession,
    platform_session: AsyncSession,
    instance_id: uuid.UUID,
    enrollment_id: uuid.UUID,
    *,
    ttl_hours: int,
) -> PaymentOrder:
    """The PENDING enrollment's payment order (the same one while it waits), paid to the school."""
    enrollment = await one_enrollment(tenant_session, enrollment_id, for_update=True)
    fee, course_id, student_name = await fee_details(tenant_session, enrollment)
    instance = await platform_session.get(Instance, instance_id)
    assert instance is not None
    order = await enrollment_order(platform_session, instance, enrollment_id=enrollment.id, amount=fee,
                                   course_id=course_id, student_name=student_name, ttl_hours=ttl_hours)  # fmt: skip
    remember_order(enrollment, order.order_code)
    await commit_platform_then_tenant(platform_session, tenant_session)
    return order


async def commit_platform_then_tenant(platform_session: AsyncSession, tenant_session: AsyncSession) -> None:
    """Two databases, so two commits: the platform's first (the money record), then the school's.
    If the second fails, the first stays right on its own: a waiting order is found again on the
    next request, and a paid one activates the enrollment through its retried job."""
    await platform_session.commit()
    await tenant_session.commit()


async def mark_fee_paid(
    tenant_session: AsyncSession,
    platform_session: AsyncSession,
    actor: AuditActor,
    instance_id: uuid.UUID,
    enrollment_id: uuid.UUID,
    *,
    reference: str | None,
    tenant_user_id: uuid.UUID | None = None,
) -> Enrollment:
    """The school saw the money (cash, its own statement): the order is PAID, the enrollment ACTIVE."""
    enrollment = await one_enrollment(tenant_session, enrollment_id, for_update=True)
    if enrollment.paid_at is not None:
        raise ConflictError("the enrollment is paid already")
    if enrollment.status is not E.PENDING:
        raise ConflictError(
            f"the enrollment is {enrollment.status.value}", extra={"enrollment_status": enrollment.status.value}
        )
    now = datetime.now(UTC)
    order_code = enrollment.payment_reference
    if order_code is not None:
        order = await order_by_code(platform_session, order_code, for_update=True)
        if order.instance_id != instance_id or order.type is not PaymentOrderType.ENROLLMENT:
            raise ConflictError("the enrollment's payment order is not this school's")
        if order.status is not PaymentOrderStatus.PAID:
            await pay_order(platform_session, order, paid_by=None, actor_id=actor.account_id, now=now,
                            reference=reference, reason="marked paid by the school", admin_override=True)  # fmt: skip
    await cancel_waiting(platform_session, instance_id, enrollment.id, "the school marked the fee paid")
    await record(platform_session, actor, "enrollment.mark_paid", "enrollment", enrollment.id,
                 after={"instance_id": str(instance_id), "order_code": order_code, "reference": reference,
                        "tenant_user_id": str(tenant_user_id) if tenant_user_id else None})  # fmt: skip
    activated = await activate_paid(tenant_session, enrollment.id, order_code=order_code, paid_at=now)
    assert activated is not None
    await commit_platform_then_tenant(platform_session, tenant_session)
    return activated
