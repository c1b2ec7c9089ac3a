"""``/tenant/v1/enrollments``: read by all staff, managed by tenant admins."""

from __future__ import annotations

import uuid
from dataclasses import replace
from typing import Annotated

from litestar import Controller, delete, get, patch, post
from litestar.datastructures import State
from litestar.di import NamedDependency
from litestar.params import FromPath, FromQuery, JSONBody, QueryParameter
from sqlalchemy.ext.asyncio import AsyncSession

from kitehub.pagination import Limit, Offset
from kitehub.platform.audit.services import AuditActor
from kitehub.platform.payments.orders import order_view
from kitehub.platform.payments.schemas import PaymentOrderResponse
from kitehub.provisioning.resolution import ResolvedTenant
from kitehub.tenant.auth import TenantCaller
from kitehub.tenant.enrollments.payments import mark_fee_paid, order_fee
from kitehub.tenant.enrollments.schemas import (
    CreateEnrollmentRequest,
    EnrollmentPage,
    EnrollmentResponse,
    MarkPaidRequest,
    UpdateEnrollmentRequest,
)
from kitehub.tenant.enrollments.services import (
    delete_enrollment,
    end_enrollment,
    enroll,
    one_enrollment,
    page_of_enrollments,
)
from kitehub.tenant.students.models import Enrollment, EnrollmentStatus
from kitehub.tenant.users.models import TenantRole


def _view(enrollment: Enrollment) -> EnrollmentResponse:
    return EnrollmentResponse.model_validate(enrollment, from_attributes=True)


class EnrollmentController(Controller):
    path = "/enrollments"
    tags = ["tenant"]  # noqa: RUF012 - Litestar declares it as an instance attribute

    @post(summary="Enroll a student in a course (ACTIVE if free, else PENDING until paid)", status_code=201)
    async def create(
        self,
        data: JSONBody[CreateEnrollmentRequest],
        tenant_caller: NamedDependency[TenantCaller],
        tenant_session: NamedDependency[AsyncSession],
    ) -> EnrollmentResponse:
        tenant_caller.require(TenantRole.ADMIN)
        return _view(await enroll(tenant_session, data.student_id, data.course_id))

    @get(summary="Enrollments, filtered by student, course or status")
    async def list_all(
        self,
        tenant_session: NamedDependency[AsyncSession],
        student_id: FromQuery[uuid.UUID | None] = None,
        course_id: FromQuery[uuid.UUID | None] = None,
        status: FromQuery[EnrollmentStatus | None] = None,
        sort: Annotated[str | None, QueryParameter(max_length=20, description="created_at, status")] = None,
        limit: Limit = 50,
        offset: Offset = 0,
    ) -> EnrollmentPage:
        rows, total = await page_of_enrollments(tenant_session, student_id=student_id, course_id=course_id,
                                                status=status, sort=sort, limit=limit, offset=offset)  # fmt: skip
        return EnrollmentPage(items=[_view(row) for row in rows], total=total, limit=limit, offset=offset)

    @get("/{enrollment_id:uuid}", summary="One enrollment")
    async def get_one(
        self, enrollment_id: FromPath[uuid.UUID], tenant_session: NamedDependency[AsyncSession]
    ) -> EnrollmentResponse:
        return _view(await one_enrollment(tenant_session, enrollment_id))

    @patch("/{enrollment_id:uuid}", summary="Complete or cancel an enrollment")
    async def update(
        self,
        enrollment_id: FromPath[uuid.UUID],
        data: JSONBody[UpdateEnrollmentRequest],
        tenant_caller: NamedDependency[TenantCaller],
        tenant_session: NamedDependency[AsyncSession],
    ) -> EnrollmentResponse:
        tenant_caller.require(TenantRole.ADMIN)
        enrollment = await one_enrollment(tenant_session, enrollment_id, for_update=True)
        return _view(await end_enrollment(tenant_session, enrollment, EnrollmentStatus(data.status)))

    @delete("/{enrollment_id:uuid}", summary="Remove an unpaid enrollment", status_code=204)
    async def remove(
        self,
        enrollment_id: FromPath[uuid.UUID],
        tenant_caller: NamedDependency[TenantCaller],
        tenant_session: NamedDependency[AsyncSession],
    ) -> None:
        tenant_caller.require(TenantRole.ADMIN)
        await delete_enrollment(tenant_session, await one_enrollment(tenant_session, enrollment_id, for_update=True))

    @post("/{enrollment_id:uuid}/payment-order", status_code=201, summary="The fee's order, paid to the school")
    async def payment_order(
        self,
        enrollment_id: FromPath[uuid.UUID],
        tenant: NamedDependency[ResolvedTenant],
        tenant_caller: NamedDependency[TenantCaller],
        tenant_session: NamedDependency[AsyncSession],
        platform_session: NamedDependency[AsyncSession],
        state: State,
    ) -> PaymentOrderResponse:
        tenant_caller.require(TenantRole.ADMIN)
        order = await order_fee(tenant_session, platform_session, tenant.instance_id, enrollment_id,
                                ttl_hours=state.settings.payment_order_ttl_hours)  # fmt: skip
        return order_view(order)

    @post("/{enrollment_id:uuid}/mark-paid", status_code=200, summary="The school received the fee (audited)")
    async def mark_paid(
        self,
        enrollment_id: FromPath[uuid.UUID],
        tenant: NamedDependency[ResolvedTenant],
        tenant_caller: NamedDependency[TenantCaller],
        tenant_session: NamedDependency[AsyncSession],
        platform_session: NamedDependency[AsyncSession],
        audit_actor: NamedDependency[AuditActor],
        data: JSONBody[MarkPaidRequest | None] = None,
    ) -> EnrollmentResponse:
        tenant_caller.require(TenantRole.ADMIN)
        actor = replace(audit_actor, account_id=tenant_caller.account_id, role=f"tenant_{tenant_caller.role.value}")
        enrollment = await mark_fee_paid(tenant_session, platform_session, actor, tenant.instance_id, enrollment_id,
                                         reference=data.reference if data else None,
                                         tenant_user_id=tenant_caller.user_id)  # fmt: skip
        return _view(enrollment)
