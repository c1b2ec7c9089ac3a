"""A session on one tenant's database for background work (no router, no request).

Jobs that must change a tenant's data after a platform event (a paid enrollment, for instance)
open it here as the tenant's own role, one connection, closed after the work.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker, create_async_engine
from sqlalchemy.pool import NullPool

from kitehub.db import committing
from kitehub.platform.instances.models import Instance
from kitehub.provisioning.credentials import database_password_location
from kitehub.provisioning.models import DatabaseServer
from kitehub.provisioning.servers import server_url
from kitehub.provisioning.tenant_config import GONE, REACHABLE, TenantNotReadyError
from kitehub.provisioning.vault import Vault


class TenantGoneError(RuntimeError):
    """The instance was deleted: there is nothing left to change."""


@asynccontextmanager
async def tenant_session(
    sessions: async_sessionmaker[AsyncSession], vault: Vault, instance_id: uuid.UUID
) -> AsyncIterator[AsyncSession]:
    """Committed when the block succeeds; ``TenantNotReadyError`` (retry later) or ``TenantGoneError``."""
    async with sessions() as session:
        row = (
            await session.execute(
                select(Instance, DatabaseServer)
                .outerjoin(DatabaseServer, DatabaseServer.id == Instance.database_server_id)
                .where(Instance.id == instance_id)
            )
        ).first()
    if row is None or row[0].status in GONE:
        raise TenantGoneError(f"instance {instance_id} is gone")
    instance, server = row
    if instance.status not in REACHABLE or server is None or not instance.database_password_encrypted:
        raise TenantNotReadyError(f"instance {instance.subdomain} is {instance.status.value}")
    assert instance.database_role is not None
    assert instance.database_name is not None
    password = vault.decrypt(instance.database_password_encrypted, database_password_location(instance.id))
    url = server_url(server.host, server.port, username=instance.database_role, password=password,
                     database=instance.database_name)  # fmt: skip
    engine = create_async_engine(url, poolclass=NullPool, hide_parameters=True)
    try:
        async with AsyncSession(engine, expire_on_commit=False) as tenant, committing(tenant):
            yield tenant
    finally:
        await engine.dispose()
