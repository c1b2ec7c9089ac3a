"""The tenant access gate of ARCHITECTURE.md: what a tenant's state allows a request to do."""

from __future__ import annotations

from kitehub.errors import NotFoundError, PaymentRequiredError, PermissionDeniedError, ServiceUnavailableError
from kitehub.migrate import tenant_revision_supported
from kitehub.platform.instances.models import InstanceStatus
from kitehub.platform.subscriptions.models import SubscriptionStatus
from kitehub.provisioning.resolution import ResolvedTenant

READ_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
PAYING = frozenset({SubscriptionStatus.TRIAL, SubscriptionStatus.ACTIVE, SubscriptionStatus.PAST_DUE})
NOT_READY_RETRY_SECONDS = 30
MIGRATION_RETRY_SECONDS = 60


def check_access(tenant: ResolvedTenant | None, method: str) -> ResolvedTenant:
    """Return the tenant when the request may proceed; otherwise raise the matching problem."""
    if tenant is None or tenant.status in (InstanceStatus.DELETED, InstanceStatus.PURGED):
        raise NotFoundError("no such instance")
    if tenant.status is InstanceStatus.SUSPENDED:
        raise PermissionDeniedError(
            f"instance {tenant.subdomain!r} is suspended", extra={"instance_status": InstanceStatus.SUSPENDED.value}
        )
    if tenant.status in (InstanceStatus.PROVISIONING, InstanceStatus.FAILED):
        raise ServiceUnavailableError(
            f"instance {tenant.subdomain!r} is not ready yet",
            retry_after_seconds=NOT_READY_RETRY_SECONDS,
            extra={"instance_status": tenant.status.value},
        )
    if not tenant_revision_supported(tenant.schema_revision):
        raise ServiceUnavailableError(
            f"the database of {tenant.subdomain!r} is being upgraded",
            retry_after_seconds=MIGRATION_RETRY_SECONDS,
            extra={"schema_revision": tenant.schema_revision},
        )
    if tenant.subscription_status not in PAYING and method.upper() not in READ_METHODS:
        status = tenant.subscription_status.value if tenant.subscription_status else None
        raise PaymentRequiredError(
            f"the subscription of {tenant.subdomain!r} has ended: reading works, changes need a payment",
            extra={"subscription_status": status},
        )
    return tenant
