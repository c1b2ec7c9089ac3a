"""Instance request and response bodies (unknown fields are refused: no mass assignment)."""

from __future__ import annotations

import uuid
from datetime import datetime

from pydantic import BaseModel, Field

from kitehub.schemas import StrictBody


class CreateInstanceRequest(StrictBody):
    subdomain: str = Field(min_length=3, max_length=50, examples=["truong-abc"])
    organization_name: str = Field(min_length=1, max_length=200)
    tier: str = Field(default="BASIC", max_length=32)


class UpdateInstanceRequest(StrictBody):
    organization_name: str | None = Field(default=None, min_length=1, max_length=200)
    custom_domain: str | None = Field(default=None, max_length=253, description="empty string removes it")


class BankAccountRequest(StrictBody):
    bank_code: str = Field(description="6-digit BIN from the State Bank of Vietnam list", examples=["970436"])
    account_number: str = Field(max_length=19, examples=["0071000123456"])
    account_name: str = Field(min_length=1, max_length=100)
    qr_template: str | None = Field(default=None, max_length=100, examples=["HOCPHI {courseId} {studentName}"])


class BankAccountView(BaseModel):
    bank_code: str
    account_number: str
    account_name: str
    qr_template: str | None


class SubscriptionSummary(BaseModel):
    status: str
    tier: str
    trial_end: datetime | None
    current_period_end: datetime | None


class StorageSummary(BaseModel):
    used_bytes: int
    limit_bytes: int


class CustomDomainVerification(BaseModel):
    """The DNS record that proves the custom domain, and whether it has been proven."""

    domain: str
    record_type: str = Field(examples=["TXT"])
    record_name: str = Field(examples=["_kitehub.hoc.example.vn"], description="publish the record here")
    record_value: str = Field(description="the record's value: public, it proves control of the domain's DNS")
    verified: bool
    verified_at: datetime | None


class InstanceResponse(BaseModel):
    id: uuid.UUID
    subdomain: str
    organization_name: str
    status: str
    status_reason: str | None
    owner_id: uuid.UUID
    tier: str | None
    subscription: SubscriptionSummary | None
    storage: StorageSummary | None
    schema_revision: str | None
    custom_domain: str | None
    custom_domain_verification: CustomDomainVerification | None
    bank_account: BankAccountView | None
    tenant_url: str
    created_at: datetime
    provisioned_at: datetime | None


class InstancePage(BaseModel):
    items: list[InstanceResponse]
    total: int
    limit: int
    offset: int


class WebhookKeyRequest(StrictBody):
    api_key: str = Field(min_length=24, max_length=200, description="the API key configured in SePay's webhook")


class WebhookKeyResponse(BaseModel):
    webhook_path: str = Field(description="where SePay posts, with header 'Authorization: Apikey <api_key>'")
