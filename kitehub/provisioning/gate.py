"""The tenant access gate of ARCHITECTURE.md: what a tenant's state allows a request to do."""

from __future__ import annotations

from kitehub.errors import NotFoundError, PaymentRequiredError, PermissionDeniedError, ServiceUnavailableError
from kitehub.platform.instances.models import InstanceStatus
from kitehub.platform.subscriptions.models import SubscriptionStatus
from kitehub.provisioning.resolution import ResolvedTenant

READ_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
PAYING = frozenset({SubscriptionStatus.TRIAL, SubscriptionStatus.ACTIVE, SubscriptionStatus.PAST_DUE})
NOT_READY_RETRY_SECONDS = 30


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
    if tenant.subscription_status not in PAYING and method.upper() not in READ_METHODS:
        status = tenant.subscription_status.value if tenant.subscription_status else None
        raise PaymentRequiredError(
            f"the subscription of {tenant.subdomain!r} has ended: reading works, changes need a payment",
            extra={"subscription_status": status},
        )
    return tenant
