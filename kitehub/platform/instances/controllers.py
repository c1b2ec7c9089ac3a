"""``/api/v1/instances``: an owner's own instances (anyone else's do not exist: 404)."""

from __future__ import annotations

import uuid
from typing import Annotated

from litestar import Controller, Response, delete, get, patch, post, put
from litestar.datastructures import State
from litestar.di import NamedDependency
from litestar.params import FromPath, HeaderParameter, JSONBody, QueryParameter
from sqlalchemy.ext.asyncio import AsyncSession

from kitehub.auth_limits import auth_limited
from kitehub.platform.accounts.models import Account
from kitehub.platform.audit.services import AuditActor
from kitehub.platform.instances.custom_domains import required_verification, verify_by_dns
from kitehub.platform.instances.queries import InstanceFilter, owned_instance, page_of_instances
from kitehub.platform.instances.schemas import (
    BankAccountRequest,
    CreateInstanceRequest,
    CustomDomainVerification,
    InstancePage,
    InstanceResponse,
    UpdateInstanceRequest,
    WebhookKeyRequest,
    WebhookKeyResponse,
)
from kitehub.platform.instances.services import (
    delete_instance,
    request_instance_once,
    set_bank_account,
    update_instance,
)
from kitehub.platform.instances.views import instance_views, view_of
from kitehub.platform.payments.instance_webhooks import set_webhook_key

Limit = Annotated[int, QueryParameter(ge=1, le=100, description="page size")]
Offset = Annotated[int, QueryParameter(ge=0, le=1_000_000)]


class InstanceController(Controller):
    path = "/api/v1/instances"
    tags = ["instances"]  # noqa: RUF012 - Litestar declares it as an instance attribute

    @post(summary="Create an instance; provisioning runs in the background", status_code=202)
    async def create(
        self,
        data: JSONBody[CreateInstanceRequest],
        current_account: NamedDependency[Account],
        audit_actor: NamedDependency[AuditActor],
        platform_session: NamedDependency[AsyncSession],
        state: State,
        idempotency_key: Annotated[str | None, HeaderParameter(name="Idempotency-Key", required=False)] = None,
    ) -> Response[InstanceResponse]:
        answer = await request_instance_once(
            platform_session,
            audit_actor.as_account(current_account),
            owner_id=current_account.id,
            body=data,
            idempotency_key=idempotency_key,
            trial_days=state.settings.trial_days,
            base_domain=state.settings.base_domain,
            max_instances=state.settings.max_instances_per_owner,
        )
        return Response(answer.body, status_code=answer.status_code, headers=answer.headers)  # type: ignore[arg-type]

    @get(summary="The caller's instances")
    async def list_own(
        self,
        current_account: NamedDependency[Account],
        platform_session: NamedDependency[AsyncSession],
        state: State,
        limit: Limit = 20,
        offset: Offset = 0,
    ) -> InstancePage:
        rows, total = await page_of_instances(
            platform_session, InstanceFilter(owner_id=current_account.id), limit=limit, offset=offset
        )
        items = await instance_views(platform_session, rows, state.settings.base_domain)
        return InstancePage(items=items, total=total, limit=limit, offset=offset)

    @get("/{instance_id:uuid}", summary="One of the caller's instances")
    async def get_one(
        self,
        instance_id: FromPath[uuid.UUID],
        current_account: NamedDependency[Account],
        platform_session: NamedDependency[AsyncSession],
        state: State,
    ) -> InstanceResponse:
        instance = await owned_instance(platform_session, current_account.id, instance_id)
        return await view_of(platform_session, instance, state.settings.base_domain)

    @patch("/{instance_id:uuid}", summary="Rename, or set or remove the custom domain")
    async def update(
        self,
        instance_id: FromPath[uuid.UUID],
        data: JSONBody[UpdateInstanceRequest],
        current_account: NamedDependency[Account],
        audit_actor: NamedDependency[AuditActor],
        platform_session: NamedDependency[AsyncSession],
        state: State,
    ) -> InstanceResponse:
        instance = await owned_instance(platform_session, current_account.id, instance_id, for_update=True)
        await update_instance(
            platform_session,
            audit_actor.as_account(current_account),
            instance,
            organization_name=data.organization_name,
            custom_domain=data.custom_domain,
            base_domain=state.settings.base_domain,
        )
        await platform_session.refresh(instance)
        return await view_of(platform_session, instance, state.settings.base_domain)

    @get("/{instance_id:uuid}/custom-domain", summary="The DNS record that proves the custom domain")
    async def custom_domain(
        self,
        instance_id: FromPath[uuid.UUID],
        current_account: NamedDependency[Account],
        platform_session: NamedDependency[AsyncSession],
    ) -> CustomDomainVerification:
        instance = await owned_instance(platform_session, current_account.id, instance_id)
        return required_verification(instance)

    @post(
        "/{instance_id:uuid}/custom-domain/verify",
        status_code=200,
        summary="Check the _kitehub.<domain> TXT record in DNS; once found, the domain reaches the school",
    )
    async def verify_custom_domain(
        self,
        instance_id: FromPath[uuid.UUID],
        current_account: NamedDependency[Account],
        audit_actor: NamedDependency[AuditActor],
        platform_session: NamedDependency[AsyncSession],
        state: State,
    ) -> CustomDomainVerification:
        instance = await owned_instance(platform_session, current_account.id, instance_id)
        settings = state.settings
        await verify_by_dns(
            platform_session,
            audit_actor.as_account(current_account),
            instance,
            nameservers=settings.nameservers,
            timeout_seconds=settings.dns_timeout_seconds,
        )
        return required_verification(instance)

    @put("/{instance_id:uuid}/bank-account", summary="Where the school's enrollment payments go")
    async def bank_account(
        self,
        instance_id: FromPath[uuid.UUID],
        data: JSONBody[BankAccountRequest],
        current_account: NamedDependency[Account],
        audit_actor: NamedDependency[AuditActor],
        platform_session: NamedDependency[AsyncSession],
        state: State,
    ) -> InstanceResponse:
        instance = await owned_instance(platform_session, current_account.id, instance_id, for_update=True)
        await set_bank_account(
            platform_session,
            audit_actor.as_account(current_account),
            instance,
            bank_code=data.bank_code,
            account_number=data.account_number,
            account_name=data.account_name,
            qr_template=data.qr_template,
        )
        await platform_session.refresh(instance)
        return await view_of(platform_session, instance, state.settings.base_domain)

    @put("/{instance_id:uuid}/webhook-key", summary="Set or rotate the key of the school's own SePay webhook",
         middleware=[auth_limited])  # fmt: skip
    async def webhook_key(
        self,
        instance_id: FromPath[uuid.UUID],
        data: JSONBody[WebhookKeyRequest],
        current_account: NamedDependency[Account],
        audit_actor: NamedDependency[AuditActor],
        platform_session: NamedDependency[AsyncSession],
    ) -> WebhookKeyResponse:
        instance = await owned_instance(platform_session, current_account.id, instance_id, for_update=True)
        await set_webhook_key(platform_session, audit_actor.as_account(current_account), instance, data.api_key)
        return WebhookKeyResponse(webhook_path=f"/api/v1/webhooks/sepay/instances/{instance.id}")

    @delete("/{instance_id:uuid}", summary="Delete (soft): the school is unreachable at once", status_code=200)
    async def remove(
        self,
        instance_id: FromPath[uuid.UUID],
        current_account: NamedDependency[Account],
        audit_actor: NamedDependency[AuditActor],
        platform_session: NamedDependency[AsyncSession],
        state: State,
    ) -> InstanceResponse:
        instance = await owned_instance(platform_session, current_account.id, instance_id, for_update=True)
        await delete_instance(platform_session, audit_actor.as_account(current_account), instance)
        await platform_session.refresh(instance)
        return await view_of(platform_session, instance, state.settings.base_domain)
