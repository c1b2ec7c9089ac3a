"""Payment-order, bank-transaction and webhook bodies."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from kitehub.schemas import StrictBody


class CreatePaymentOrderRequest(StrictBody):
    instance_id: uuid.UUID
    type: Literal["SUBSCRIPTION"] = "SUBSCRIPTION"
    tier: str = Field(min_length=1, max_length=32, examples=["STANDARD"])
    months: int = Field(ge=1, le=12, examples=[1])


class ReceivingBank(BaseModel):
    bin: str
    account_number: str
    account_name: str


class PaymentOrderResponse(BaseModel):
    order_code: str
    instance_id: uuid.UUID
    type: str
    kind: str | None = Field(description="PERIOD (months of a tier) or UPGRADE (the prorated difference)")
    status: str
    tier: str | None
    months: int | None
    amount: int = Field(description="VND")
    amount_received: int
    transfer_content: str
    qr_payload: str
    bank: ReceivingBank
    expires_at: datetime
    paid_at: datetime | None
    created_at: datetime


class AdminNoteRequest(StrictBody):
    reason: str | None = Field(default=None, max_length=500)


class ConfirmOrderRequest(StrictBody):
    reference: str | None = Field(default=None, max_length=128, description="bank reference or receipt number")
    reason: str | None = Field(default=None, max_length=500)


class ApplyTransactionRequest(StrictBody):
    order_code: str = Field(min_length=1, max_length=32)
    reason: str | None = Field(default=None, max_length=500)


class BankTransactionResponse(BaseModel):
    id: uuid.UUID
    provider: str
    provider_transaction_id: str
    direction: str
    amount: int
    account_number: str | None
    content: str | None
    reference_code: str | None
    transaction_at: datetime | None
    received_at: datetime
    status: str
    review_reason: str | None
    order_code: str | None
    resolved_at: datetime | None


class BankTransactionPage(BaseModel):
    items: list[BankTransactionResponse]
    total: int
    limit: int
    offset: int


class WebhookAck(BaseModel):
    success: bool = True


class SePayDelivery(BaseModel):
    """SePay's webhook body (FACTS.md). Unknown fields are neither refused nor stored: the stored
    copy of a delivery is its known fields only, each bounded, so a delivery cannot store junk."""

    model_config = ConfigDict(extra="ignore")

    id: int = Field(ge=0)
    gateway: str | None = Field(default=None, max_length=100)
    transactionDate: str | None = Field(default=None, max_length=40)  # noqa: N815 - SePay's name
    accountNumber: str | None = Field(default=None, max_length=32)  # noqa: N815
    subAccount: str | None = Field(default=None, max_length=32)  # noqa: N815
    code: str | None = Field(default=None, max_length=100)
    content: str | None = Field(default=None, max_length=1000)
    transferType: Literal["in", "out"]  # noqa: N815
    description: str | None = Field(default=None, max_length=2000)
    transferAmount: int = Field(ge=0, lt=10**15)  # noqa: N815
    referenceCode: str | None = Field(default=None, max_length=128)  # noqa: N815
    accumulated: int | None = Field(default=None, gt=-(10**15), lt=10**15)


class CassoTransaction(BaseModel):
    """Casso v2's ``data`` (FACTS.md); as with SePay, only these fields are kept."""

    model_config = ConfigDict(extra="ignore")

    id: int = Field(ge=0)
    reference: str | None = Field(default=None, max_length=128)
    description: str | None = Field(default=None, max_length=2000)
    amount: int = Field(gt=-(10**15), lt=10**15, description="negative for money going out")
    runningBalance: int | None = Field(default=None, gt=-(10**15), lt=10**15)  # noqa: N815
    transactionDateTime: str | None = Field(default=None, max_length=40)  # noqa: N815
    accountNumber: str | None = Field(default=None, max_length=32)  # noqa: N815
    bankName: str | None = Field(default=None, max_length=200)  # noqa: N815
    bankAbbreviation: str | None = Field(default=None, max_length=32)  # noqa: N815
    virtualAccountNumber: str | None = Field(default=None, max_length=64)  # noqa: N815
    virtualAccountName: str | None = Field(default=None, max_length=200)  # noqa: N815
    counterAccountName: str | None = Field(default=None, max_length=200)  # noqa: N815
    counterAccountNumber: str | None = Field(default=None, max_length=64)  # noqa: N815
    counterAccountBankId: str | None = Field(default=None, max_length=32)  # noqa: N815
    counterAccountBankName: str | None = Field(default=None, max_length=200)  # noqa: N815


class CassoDelivery(BaseModel):
    model_config = ConfigDict(extra="ignore")

    error: int = 0
    data: CassoTransaction
