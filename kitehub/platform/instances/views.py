"""How instances are shown: to their owners and admins (views) and to the audit log (snapshots)."""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from kitehub.platform.instances.models import Instance
from kitehub.platform.instances.schemas import (
    BankAccountView,
    CustomDomainVerification,
    InstanceResponse,
    StorageSummary,
    SubscriptionSummary,
)
from kitehub.platform.storage.models import StorageUsage
from kitehub.platform.subscriptions.models import Subscription
from kitehub.platform.tiers.models import Tier

AUDITED_FIELDS = (
    "subdomain",
    "organization_name",
    "status",
    "status_reason",
    "custom_domain",
    "custom_domain_verified_at",
    "bank_bin",
    "bank_account_number",
    "bank_account_name",
    "qr_template",
    "database_server_id",
    "schema_revision",
)  # fmt: skip - never the database password, not even encrypted


def instance_snapshot(instance: Instance) -> dict[str, Any]:
    snapshot: dict[str, Any] = {}
    for name in AUDITED_FIELDS:
        value = getattr(instance, name)
        snapshot[name] = value.value if hasattr(value, "value") else (str(value) if value is not None else None)
    return snapshot


def tenant_url(subdomain: str, base_domain: str) -> str:
    scheme = "http" if base_domain.endswith("localhost") else "https"
    return f"{scheme}://{subdomain}.{base_domain}/"


async def instance_views(session: AsyncSession, instances: list[Instance], base_domain: str) -> list[InstanceResponse]:
    ids = [instance.id for instance in instances]
    subscriptions: dict[uuid.UUID, Subscription] = {
        row.instance_id: row
        for row in await session.scalars(select(Subscription).where(Subscription.instance_id.in_(ids)))
    }
    usage: dict[uuid.UUID, StorageUsage] = {
        row.instance_id: row
        for row in await session.scalars(select(StorageUsage).where(StorageUsage.instance_id.in_(ids)))
    }
    tiers = {tier.code: tier for tier in await session.scalars(select(Tier))}
    views = []
    for instance in instances:
        subscription = subscriptions.get(instance.id)
        tier = tiers.get(subscription.tier_code) if subscription else None
        used = usage.get(instance.id)
        views.append(
            InstanceResponse(
                id=instance.id,
                subdomain=instance.subdomain,
                organization_name=instance.organization_name,
                status=instance.status.value,
                status_reason=instance.status_reason,
                owner_id=instance.owner_id,
                tier=tier.code if tier else None,
                subscription=SubscriptionSummary(
                    status=subscription.status.value,
                    tier=subscription.tier_code,
                    trial_end=subscription.trial_end,
                    current_period_end=subscription.current_period_end,
                )
                if subscription
                else None,
                storage=StorageSummary(used_bytes=used.used_bytes, limit_bytes=tier.storage_limit_bytes if tier else 0)
                if used
                else None,
                schema_revision=instance.schema_revision,
                custom_domain=instance.custom_domain,
                custom_domain_verification=verification_of(instance),
                bank_account=BankAccountView(
                    bank_code=instance.bank_bin,
                    account_number=instance.bank_account_number or "",
                    account_name=instance.bank_account_name or "",
                    qr_template=instance.qr_template,
                )
                if instance.bank_bin
                else None,
                tenant_url=tenant_url(instance.subdomain, base_domain),
                created_at=instance.created_at,
                provisioned_at=instance.provisioned_at,
            )
        )
    return views


RECORD_LABEL = "_kitehub"  # the custom domain's proof is published at _kitehub.<domain>


def record_name(domain: str) -> str:
    return f"{RECORD_LABEL}.{domain}"


def verification_of(instance: Instance) -> CustomDomainVerification | None:
    """What the owner must publish, and whether it has been proven (None: no custom domain)."""
    if instance.custom_domain is None or instance.custom_domain_token is None:
        return None
    return CustomDomainVerification(
        domain=instance.custom_domain,
        record_type="TXT",
        record_name=record_name(instance.custom_domain),
        record_value=instance.custom_domain_token,
        verified=instance.custom_domain_verified_at is not None,
        verified_at=instance.custom_domain_verified_at,
    )


async def view_of(session: AsyncSession, instance: Instance, base_domain: str) -> InstanceResponse:
    return (await instance_views(session, [instance], base_domain))[0]
