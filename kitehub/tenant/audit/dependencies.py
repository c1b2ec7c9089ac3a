"""The audit actor of a tenant request: the verified caller, with the request's address and agent."""

from __future__ import annotations

from litestar.di import NamedDependency

from kitehub.platform.audit.services import AuditActor
from kitehub.tenant.audit.services import TenantActor, tenant_actor
from kitehub.tenant.auth import TenantCaller


async def provide_tenant_actor(
    tenant_caller: NamedDependency[TenantCaller], audit_actor: NamedDependency[AuditActor]
) -> TenantActor:
    return tenant_actor(tenant_caller, audit_actor)
