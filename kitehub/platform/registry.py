"""Imports every model stored in the platform database, so its metadata is complete.

Alembic (autogenerate and the schema test) compares the database against this metadata.
"""

from kitehub.db import PlatformBase
from kitehub.platform.accounts.models import Account, LoginAttempts
from kitehub.platform.audit.models import AuditLogEntry
from kitehub.platform.branding.models import BrandingJob
from kitehub.platform.config.models import PlatformSetting
from kitehub.platform.idempotency.models import IdempotencyKey
from kitehub.platform.instances.models import Instance, InstanceEvent
from kitehub.platform.payments.models import (
    BankTransaction,
    PaymentOrder,
    PaymentOrderEvent,
)
from kitehub.platform.storage.models import StorageEvent, StorageUsage
from kitehub.platform.subscriptions.models import Subscription, SubscriptionHistory
from kitehub.platform.tiers.models import Tier
from kitehub.provisioning.models import DatabaseServer, ProvisioningStep, TenantMigration

platform_metadata = PlatformBase.metadata

__all__ = [
    "Account",
    "AuditLogEntry",
    "BankTransaction",
    "BrandingJob",
    "DatabaseServer",
    "IdempotencyKey",
    "Instance",
    "InstanceEvent",
    "LoginAttempts",
    "PaymentOrder",
    "PaymentOrderEvent",
    "PlatformSetting",
    "ProvisioningStep",
    "StorageEvent",
    "StorageUsage",
    "Subscription",
    "SubscriptionHistory",
    "TenantMigration",
    "Tier",
    "platform_metadata",
]
