"""Reading an instance's usage for the downgrade check: platform quota plus tenant row counts."""

from __future__ import annotations

import uuid

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from kitehub.platform.instances.models import Instance
from kitehub.platform.storage.services import committed_and_reserved_bytes
from kitehub.platform.subscriptions.usage import Usage, UsageReader
from kitehub.provisioning.router import TenantRouter
from kitehub.provisioning.tenant_config import REACHABLE
from kitehub.tenant.usage.services import count_limited_rows


def usage_reader(router: TenantRouter, platform_session: AsyncSession, instance_id: uuid.UUID) -> UsageReader:
    """Lazy: the tenant database is reached only when a rule needs the numbers."""

    async def read() -> Usage:
        storage = await committed_and_reserved_bytes(platform_session, instance_id)
        status = await platform_session.scalar(select(Instance.status).where(Instance.id == instance_id))
        if status not in REACHABLE:  # not provisioned yet (or failed): the school holds nothing
            return Usage(students=0, courses=0, storage_bytes=storage)
        async with router.instance_session(instance_id) as tenant_session:
            counts = await count_limited_rows(tenant_session)
        return Usage(students=counts.students, courses=counts.courses, storage_bytes=storage)

    return read
