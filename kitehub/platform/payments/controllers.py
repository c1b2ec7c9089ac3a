"""``/api/v1/payment-orders``: owners' VietQR orders, with their QR codes as images."""

from __future__ import annotations

from typing import Annotated

from litestar import Controller, Response, get, post
from litestar.datastructures import State
from litestar.di import NamedDependency
from litestar.params import FromPath, HeaderParameter, JSONBody
from sqlalchemy.ext.asyncio import AsyncSession

from kitehub.platform.accounts.models import Account, AccountRole
from kitehub.platform.audit.services import AuditActor
from kitehub.platform.payments.models import PaymentOrder
from kitehub.platform.payments.orders import cancel_order, order_view, visible_order
from kitehub.platform.payments.qr import qr_png, qr_svg
from kitehub.platform.payments.schemas import CreatePaymentOrderRequest, PaymentOrderResponse
from kitehub.platform.payments.subscription_orders import request_subscription_order
from kitehub.platform.subscriptions.dependencies import usage_reader
from kitehub.provisioning.router import TenantRouter

OrderCode = Annotated[str, FromPath]
IMAGE_CACHE = "private, max-age=86400"  # an order's payload never changes


class PaymentOrderController(Controller):
    path = "/api/v1/payment-orders"
    tags = ["payments"]  # noqa: RUF012 - Litestar declares it as an instance attribute

    @post(summary="Order subscription months; pay it by bank transfer with the returned VietQR", status_code=201)
    async def create(
        self,
        data: JSONBody[CreatePaymentOrderRequest],
        current_account: NamedDependency[Account],
        audit_actor: NamedDependency[AuditActor],
        platform_session: NamedDependency[AsyncSession],
        tenant_router: NamedDependency[TenantRouter],
        state: State,
        idempotency_key: Annotated[str | None, HeaderParameter(name="Idempotency-Key", required=False)] = None,
    ) -> Response[PaymentOrderResponse]:
        answer = await request_subscription_order(
            platform_session,
            audit_actor.as_account(current_account),
            account_id=current_account.id,
            body=data,
            idempotency_key=idempotency_key,
            settings=state.settings,
            usage=usage_reader(tenant_router, platform_session, data.instance_id),
        )
        return Response(answer.body, status_code=answer.status_code, headers=answer.headers)  # type: ignore[arg-type]

    @get("/{order_code:str}", summary="One payment order (its status shows whether it was paid)")
    async def show(
        self,
        order_code: OrderCode,
        current_account: NamedDependency[Account],
        platform_session: NamedDependency[AsyncSession],
    ) -> PaymentOrderResponse:
        return order_view(await _visible(platform_session, order_code, current_account))

    @get("/{order_code:str}/qr.svg", summary="The order's VietQR code as SVG", media_type="image/svg+xml")
    async def qr_svg(
        self,
        order_code: OrderCode,
        current_account: NamedDependency[Account],
        platform_session: NamedDependency[AsyncSession],
    ) -> Response[bytes]:
        order = await _visible(platform_session, order_code, current_account)
        return Response(qr_svg(order.qr_payload), media_type="image/svg+xml", headers={"Cache-Control": IMAGE_CACHE})

    @get("/{order_code:str}/qr.png", summary="The order's VietQR code as PNG", media_type="image/png")
    async def qr_png(
        self,
        order_code: OrderCode,
        current_account: NamedDependency[Account],
        platform_session: NamedDependency[AsyncSession],
    ) -> Response[bytes]:
        order = await _visible(platform_session, order_code, current_account)
        return Response(qr_png(order.qr_payload), media_type="image/png", headers={"Cache-Control": IMAGE_CACHE})

    @post("/{order_code:str}/cancel", status_code=200, summary="Cancel a PENDING order")
    async def cancel(
        self,
        order_code: OrderCode,
        current_account: NamedDependency[Account],
        platform_session: NamedDependency[AsyncSession],
    ) -> PaymentOrderResponse:
        order = await visible_order(platform_session, order_code, current_account.id, is_admin=False, for_update=True)
        await cancel_order(platform_session, order, actor_id=current_account.id)
        return order_view(order)


async def _visible(session: AsyncSession, order_code: str, account: Account) -> PaymentOrder:
    return await visible_order(session, order_code, account.id, is_admin=account.role is AccountRole.ADMIN)
