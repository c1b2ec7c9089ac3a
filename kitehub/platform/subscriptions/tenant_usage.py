"""A school's usage read from the worker (no router): quota bytes from the platform, rows from
its own database; None when the database cannot be reached now."""

from __future__ import annotations

import uuid

from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from kitehub.platform.storage.services import committed_and_reserved_bytes
from kitehub.platform.subscriptions.usage import Usage
from kitehub.provisioning.tenant_access import TenantGoneError, tenant_session
from kitehub.provisioning.tenant_config import TenantNotReadyError
from kitehub.provisioning.vault import Vault
from kitehub.tenant.usage.services import count_limited_rows


async def read_usage(sessions: async_sessionmaker[AsyncSession], vault: Vault, instance_id: uuid.UUID) -> Usage | None:
    try:
        async with sessions() as session:
            storage = await committed_and_reserved_bytes(session, instance_id)
        async with tenant_session(sessions, vault, instance_id) as tenant:
            counts = await count_limited_rows(tenant)
    except (TenantGoneError, TenantNotReadyError, OSError, DBAPIError):
        return None
    return Usage(students=counts.students, courses=counts.courses, storage_bytes=storage)
