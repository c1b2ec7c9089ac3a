"""``GET /api/v1/instances/{id}/storage``: how much of its quota a school uses, and in how many files."""

from __future__ import annotations

import uuid

from litestar import Controller, get
from litestar.di import NamedDependency
from litestar.params import FromPath
from sqlalchemy.ext.asyncio import AsyncSession

from kitehub.platform.accounts.models import Account
from kitehub.platform.instances.queries import owned_instance
from kitehub.platform.storage.schemas import StorageResponse
from kitehub.platform.storage.services import quota
from kitehub.provisioning.router import TenantRouter
from kitehub.provisioning.tenant_config import REACHABLE
from kitehub.tenant.usage.services import count_media_files


class StorageController(Controller):
    path = "/api/v1/instances/{instance_id:uuid}/storage"
    tags = ["instances"]  # noqa: RUF012 - Litestar declares it as an instance attribute

    @get(summary="Bytes used of the tier's storage limit, and the number of stored files")
    async def show(
        self,
        instance_id: FromPath[uuid.UUID],
        current_account: NamedDependency[Account],
        platform_session: NamedDependency[AsyncSession],
        tenant_router: NamedDependency[TenantRouter],
    ) -> StorageResponse:
        instance = await owned_instance(platform_session, current_account.id, instance_id)
        current = await quota(platform_session, instance.id)
        files = 0  # an instance still being provisioned has no database, hence no files
        if instance.status in REACHABLE:
            async with tenant_router.instance_session(instance.id) as tenant_session:
                files = await count_media_files(tenant_session)
        return StorageResponse(used_bytes=current.used_bytes, limit_bytes=current.limit_bytes, files=files)
