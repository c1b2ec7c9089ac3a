"""``/api/v1/admin``: platform admins steer every instance; they never read tenant data."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated

from litestar import Controller, delete, get, post
from litestar.datastructures import State
from litestar.di import NamedDependency
from litestar.params import FromPath, FromQuery, JSONBody, QueryParameter
from sqlalchemy.ext.asyncio import AsyncSession

from kitehub.pagination import Limit, Offset
from kitehub.platform.accounts.models import Account
from kitehub.platform.admin.schemas import (
    AuditEntryResponse,
    AuditPage,
    DatabaseServerRequest,
    DatabaseServerResponse,
    SuspendRequest,
)
from kitehub.platform.admin.services import add_database_server, server_views
from kitehub.platform.audit.services import AuditActor, AuditQuery, page_of_audit
from kitehub.platform.instances import admin_services
from kitehub.platform.instances.custom_domains import mark_verified, required_verification
from kitehub.platform.instances.models import InstanceStatus
from kitehub.platform.instances.queries import InstanceFilter, any_instance, page_of_instances
from kitehub.platform.instances.schemas import CustomDomainVerification, InstancePage, InstanceResponse
from kitehub.platform.instances.views import instance_views, view_of


class AdminController(Controller):
    path = "/api/v1/admin"
    tags = ["admin"]  # noqa: RUF012 - Litestar declares it as an instance attribute

    @get("/instances", summary="All instances, filtered")
    async def instances(
        self,
        current_admin: NamedDependency[Account],
        platform_session: NamedDependency[AsyncSession],
        state: State,
        status: FromQuery[InstanceStatus | None] = None,
        tier: Annotated[str | None, QueryParameter(max_length=32)] = None,
        owner: FromQuery[uuid.UUID | None] = None,
        subdomain: Annotated[str | None, QueryParameter(max_length=50)] = None,
        limit: Limit = 50,
        offset: Offset = 0,
    ) -> InstancePage:
        where = InstanceFilter(owner_id=owner, status=status, tier=tier, subdomain=subdomain, include_deleted=True)
        rows, total = await page_of_instances(platform_session, where, limit=limit, offset=offset)
        items = await instance_views(platform_session, rows, state.settings.base_domain)
        return InstancePage(items=items, total=total, limit=limit, offset=offset)

    @post("/instances/{instance_id:uuid}/suspend", status_code=200, summary="Suspend: the school answers 403")
    async def suspend(
        self,
        instance_id: FromPath[uuid.UUID],
        current_admin: NamedDependency[Account],
        audit_actor: NamedDependency[AuditActor],
        platform_session: NamedDependency[AsyncSession],
        state: State,
        data: JSONBody[SuspendRequest | None] = None,
    ) -> InstanceResponse:
        instance = await any_instance(platform_session, instance_id, for_update=True)
        reason = data.reason if data else None
        await admin_services.suspend(platform_session, audit_actor.as_account(current_admin), instance, reason)
        return await view_of(platform_session, instance, state.settings.base_domain)

    @post("/instances/{instance_id:uuid}/resume", status_code=200, summary="Resume a suspended instance")
    async def resume(
        self,
        instance_id: FromPath[uuid.UUID],
        current_admin: NamedDependency[Account],
        audit_actor: NamedDependency[AuditActor],
        platform_session: NamedDependency[AsyncSession],
        state: State,
    ) -> InstanceResponse:
        instance = await any_instance(platform_session, instance_id, for_update=True)
        await admin_services.resume(platform_session, audit_actor.as_account(current_admin), instance)
        return await view_of(platform_session, instance, state.settings.base_domain)

    @post("/instances/{instance_id:uuid}/retry-provisioning", status_code=202, summary="Retry a failed provisioning")
    async def retry_provisioning(
        self,
        instance_id: FromPath[uuid.UUID],
        current_admin: NamedDependency[Account],
        audit_actor: NamedDependency[AuditActor],
        platform_session: NamedDependency[AsyncSession],
        state: State,
    ) -> InstanceResponse:
        instance = await any_instance(platform_session, instance_id, for_update=True)
        await admin_services.retry_provisioning(platform_session, audit_actor.as_account(current_admin), instance)
        return await view_of(platform_session, instance, state.settings.base_domain)

    @post(
        "/instances/{instance_id:uuid}/custom-domain/verify",
        status_code=200,
        summary="Mark the custom domain verified by hand (audited), without a DNS check",
    )
    async def verify_custom_domain(
        self,
        instance_id: FromPath[uuid.UUID],
        current_admin: NamedDependency[Account],
        audit_actor: NamedDependency[AuditActor],
        platform_session: NamedDependency[AsyncSession],
    ) -> CustomDomainVerification:
        instance = await any_instance(platform_session, instance_id, for_update=True)
        await mark_verified(platform_session, audit_actor.as_account(current_admin), instance, method="admin")
        return required_verification(instance)

    @delete("/instances/{instance_id:uuid}", status_code=200, summary="Delete; purge=true also drops database and role")
    async def remove(
        self,
        instance_id: FromPath[uuid.UUID],
        current_admin: NamedDependency[Account],
        audit_actor: NamedDependency[AuditActor],
        platform_session: NamedDependency[AsyncSession],
        state: State,
        purge: FromQuery[bool] = False,
    ) -> InstanceResponse:
        instance = await any_instance(platform_session, instance_id, for_update=True)
        await admin_services.delete(platform_session, audit_actor.as_account(current_admin), instance, purge=purge)
        await platform_session.refresh(instance)
        return await view_of(platform_session, instance, state.settings.base_domain)

    @get("/audit-log", summary="The audit trail, newest first")
    async def audit_log(
        self,
        current_admin: NamedDependency[Account],
        platform_session: NamedDependency[AsyncSession],
        actor: FromQuery[uuid.UUID | None] = None,
        action: Annotated[str | None, QueryParameter(max_length=100)] = None,
        target_type: Annotated[str | None, QueryParameter(max_length=64)] = None,
        target_id: Annotated[str | None, QueryParameter(max_length=128)] = None,
        since: FromQuery[datetime | None] = None,
        until: FromQuery[datetime | None] = None,
        limit: Limit = 50,
        offset: Offset = 0,
    ) -> AuditPage:
        query = AuditQuery(actor, action, target_type, target_id, since, until)
        rows, total = await page_of_audit(platform_session, query, limit=limit, offset=offset)
        items = [AuditEntryResponse.model_validate(row, from_attributes=True) for row in rows]
        return AuditPage(items=items, total=total, limit=limit, offset=offset)

    @get("/database-servers", summary="Servers holding tenant databases, with their load")
    async def database_servers(
        self, current_admin: NamedDependency[Account], platform_session: NamedDependency[AsyncSession]
    ) -> list[DatabaseServerResponse]:
        return await server_views(platform_session)

    @post("/database-servers", status_code=201, summary="Register a server (checked before it is added)")
    async def add_server(
        self,
        data: JSONBody[DatabaseServerRequest],
        current_admin: NamedDependency[Account],
        audit_actor: NamedDependency[AuditActor],
        platform_session: NamedDependency[AsyncSession],
        state: State,
    ) -> DatabaseServerResponse:
        return await add_database_server(
            platform_session, state.vault, audit_actor.as_account(current_admin), data.name, data.url, data.max_tenants
        )
