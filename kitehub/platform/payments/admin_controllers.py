"""``/api/v1/admin``: money that needs a person — review, apply, dismiss, confirm by hand."""

from __future__ import annotations

import uuid
from typing import Annotated

from litestar import Controller, get, post
from litestar.di import NamedDependency
from litestar.params import FromPath, JSONBody, QueryParameter
from sqlalchemy.ext.asyncio import AsyncSession

from kitehub.errors import InvalidInputError
from kitehub.pagination import Limit, Offset
from kitehub.platform.accounts.models import Account
from kitehub.platform.audit.services import AuditActor
from kitehub.platform.payments.models import BankTransactionStatus
from kitehub.platform.payments.orders import order_view
from kitehub.platform.payments.review import (
    apply_transaction,
    confirm_order,
    dismiss_transaction,
    page_of_bank_transactions,
    transaction_view,
)
from kitehub.platform.payments.schemas import (
    AdminNoteRequest,
    ApplyTransactionRequest,
    BankTransactionPage,
    BankTransactionResponse,
    ConfirmOrderRequest,
    PaymentOrderResponse,
)


def _status(value: str | None) -> BankTransactionStatus | None:
    if value is None:
        return None
    try:
        return BankTransactionStatus(value.strip().lower())
    except ValueError:
        allowed = ", ".join(member.value for member in BankTransactionStatus)
        raise InvalidInputError(
            f"status must be one of {allowed}",
            extra={"errors": [{"field": "status", "message": "unknown status", "source": "query"}]},
        ) from None


class BillingAdminController(Controller):
    path = "/api/v1/admin"
    tags = ["admin"]  # noqa: RUF012 - Litestar declares it as an instance attribute

    @get("/bank-transactions", summary="Bank deliveries, oldest first (?status=needs_review for the queue)")
    async def bank_transactions(
        self,
        current_admin: NamedDependency[Account],
        platform_session: NamedDependency[AsyncSession],
        status: Annotated[str | None, QueryParameter(max_length=20)] = None,
        limit: Limit = 50,
        offset: Offset = 0,
    ) -> BankTransactionPage:
        items, total = await page_of_bank_transactions(platform_session, _status(status), limit=limit, offset=offset)
        return BankTransactionPage(items=items, total=total, limit=limit, offset=offset)

    @post("/bank-transactions/{transaction_id:uuid}/apply", status_code=200, summary="Pay an order with it")
    async def apply(
        self,
        transaction_id: FromPath[uuid.UUID],
        data: JSONBody[ApplyTransactionRequest],
        current_admin: NamedDependency[Account],
        audit_actor: NamedDependency[AuditActor],
        platform_session: NamedDependency[AsyncSession],
    ) -> BankTransactionResponse:
        transaction, order = await apply_transaction(
            platform_session, audit_actor.as_account(current_admin), transaction_id, data.order_code, data.reason
        )
        return transaction_view(transaction, order.order_code)

    @post("/bank-transactions/{transaction_id:uuid}/dismiss", status_code=200, summary="Close it unapplied")
    async def dismiss(
        self,
        transaction_id: FromPath[uuid.UUID],
        current_admin: NamedDependency[Account],
        audit_actor: NamedDependency[AuditActor],
        platform_session: NamedDependency[AsyncSession],
        data: JSONBody[AdminNoteRequest | None] = None,
    ) -> BankTransactionResponse:
        transaction = await dismiss_transaction(
            platform_session, audit_actor.as_account(current_admin), transaction_id, data.reason if data else None
        )
        return transaction_view(transaction, None)

    @post("/payment-orders/{order_code:str}/confirm", status_code=200, summary="Mark an order paid by hand")
    async def confirm(
        self,
        order_code: FromPath[str],
        current_admin: NamedDependency[Account],
        audit_actor: NamedDependency[AuditActor],
        platform_session: NamedDependency[AsyncSession],
        data: JSONBody[ConfirmOrderRequest | None] = None,
    ) -> PaymentOrderResponse:
        order = await confirm_order(
            platform_session,
            audit_actor.as_account(current_admin),
            order_code,
            reference=data.reference if data else None,
            reason=data.reason if data else None,
        )
        return order_view(order)
