"""``instance_config``: the tenant's copy of its tier (features, limits, storage), written here only.

Written once by the provisioner and again whenever the tier or the instance's tier changes (a
retried job). The push reads the platform rows ``FOR SHARE`` and keeps that lock until the tenant
row is written: a concurrent change waits for the push and then queues its own, so a stale push
can never overwrite a newer one.
"""

from __future__ import annotations

import json
import uuid
from enum import StrEnum

import asyncpg
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from kitehub.db import libpq_dsn
from kitehub.platform.instances.models import Instance, InstanceStatus
from kitehub.platform.subscriptions.models import Subscription
from kitehub.platform.tiers.models import Tier
from kitehub.provisioning.credentials import database_password_location
from kitehub.provisioning.models import DatabaseServer
from kitehub.provisioning.servers import server_url
from kitehub.provisioning.vault import Vault

UPSERT_INSTANCE_CONFIG = (
    "INSERT INTO instance_config (id, instance_id, subdomain, tier_code, features, limitations,"
    " storage_limit_bytes, synced_at) VALUES (1, $1, $2, $3, $4::jsonb, $5::jsonb, $6, now())"
    " ON CONFLICT (id) DO UPDATE SET instance_id = EXCLUDED.instance_id, subdomain = EXCLUDED.subdomain,"
    " tier_code = EXCLUDED.tier_code, features = EXCLUDED.features, limitations = EXCLUDED.limitations,"
    " storage_limit_bytes = EXCLUDED.storage_limit_bytes, synced_at = EXCLUDED.synced_at"
)
REACHABLE = frozenset({InstanceStatus.READY, InstanceStatus.SUSPENDED})
GONE = frozenset({InstanceStatus.DELETED, InstanceStatus.PURGED})


class PushOutcome(StrEnum):
    PUSHED = "pushed"
    GONE = "gone"  # deleted: nothing to keep in step


class TenantNotReadyError(RuntimeError):
    """The tenant database is not there yet (provisioning, failed): try again later."""


async def write_instance_config(connection: asyncpg.Connection, instance: Instance, tier: Tier) -> None:
    await connection.execute(
        UPSERT_INSTANCE_CONFIG,
        instance.id,
        instance.subdomain,
        tier.code,
        json.dumps(tier.features),
        json.dumps(tier.limitations),
        tier.storage_limit_bytes,
    )


async def push_instance_config(
    sessions: async_sessionmaker[AsyncSession], vault: Vault, instance_id: uuid.UUID
) -> PushOutcome:
    """Make the tenant's ``instance_config`` match its subscription's tier now (as the tenant role)."""
    async with sessions() as session, session.begin():
        row = (
            await session.execute(
                select(Instance, Subscription, DatabaseServer)
                .join(Subscription, Subscription.instance_id == Instance.id)
                .outerjoin(DatabaseServer, DatabaseServer.id == Instance.database_server_id)
                .where(Instance.id == instance_id)
                .with_for_update(read=True, of=[Instance, Subscription])
            )
        ).first()
        if row is None or row[0].status in GONE:
            return PushOutcome.GONE
        instance, subscription, server = row
        if instance.status not in REACHABLE or server is None or not instance.database_password_encrypted:
            raise TenantNotReadyError(f"instance {instance.subdomain} is {instance.status.value}")
        tier = await session.get(Tier, subscription.tier_code, with_for_update={"read": True})
        assert tier is not None
        assert instance.database_role
        assert instance.database_name
        password = vault.decrypt(instance.database_password_encrypted, database_password_location(instance.id))
        url = server_url(server.host, server.port, username=instance.database_role, password=password,
                         database=instance.database_name)  # fmt: skip
        connection = await asyncpg.connect(dsn=libpq_dsn(url), timeout=30)
        try:
            await write_instance_config(connection, instance, tier)
        finally:
            await connection.close()
    return PushOutcome.PUSHED
