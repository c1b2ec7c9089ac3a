"""Removing tenant databases: deprovisioning an instance, and reconciling what belongs to nobody."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field

import asyncpg
from sqlalchemy import or_, select, text
from sqlalchemy.ext.asyncio import AsyncSession

from kitehub.errors import NotFoundError
from kitehub.pg_admin import drop_database, quote_ident
from kitehub.platform.instances.lifecycle import transition
from kitehub.platform.instances.models import Instance, InstanceStatus
from kitehub.provisioning.credentials import TENANT_PREFIX, is_tenant_name
from kitehub.provisioning.models import DatabaseServer
from kitehub.provisioning.provisioner import ProvisioningInProgressError
from kitehub.provisioning.servers import admin_connection
from kitehub.provisioning.steps import instance_lock_key
from kitehub.provisioning.template import BUILD_LOCK_KEY, BUILD_PREFIX
from kitehub.provisioning.vault import Vault


async def deprovision(
    session: AsyncSession, vault: Vault, instance_id: uuid.UUID, *, actor_id: uuid.UUID | None = None
) -> Instance:
    """Drop the instance's database (sessions ended) and role; the instance ends PURGED.

    Refused while a provisioner runs for it; an abandoned provisioning (its process died) can be
    removed. Safe to repeat: the drops use IF EXISTS and the instance row is locked meanwhile.
    """
    locked = await session.scalar(
        text("SELECT pg_try_advisory_xact_lock(:key)"), {"key": instance_lock_key(instance_id)}
    )
    if not locked:
        raise ProvisioningInProgressError("the instance is being provisioned; wait for it to finish or fail")
    instance = await session.get(Instance, instance_id, with_for_update=True, populate_existing=True)
    if instance is None:
        raise NotFoundError(f"no instance {instance_id}")
    if instance.status is InstanceStatus.PURGED:
        return instance
    server = await session.get(DatabaseServer, instance.database_server_id) if instance.database_server_id else None
    if server is not None and instance.database_name and instance.database_role:
        async with admin_connection(server, vault) as admin:
            await drop_database(admin, instance.database_name)
            await admin.execute(f"DROP ROLE IF EXISTS {quote_ident(instance.database_role)}")
    if instance.status is InstanceStatus.PROVISIONING:
        transition(session, instance, InstanceStatus.FAILED, actor_id=actor_id, reason="provisioning abandoned")
    if instance.status is not InstanceStatus.DELETED:
        transition(session, instance, InstanceStatus.DELETED, actor_id=actor_id, reason="deprovisioned")
    transition(session, instance, InstanceStatus.PURGED, actor_id=actor_id, reason="database and role dropped")
    instance.database_password_encrypted = None  # nothing left to protect
    await session.flush()
    return instance


@dataclass
class Orphans:
    server: str
    databases: list[str] = field(default_factory=list)
    roles: list[str] = field(default_factory=list)


async def find_orphans(session: AsyncSession, vault: Vault) -> list[Orphans]:
    """Tenant-named databases and roles on each server that no unpurged instance claims.

    The catalog is read before the claims: a tenant placed in between is then claimed already
    (an instance claims its names at placement, before anything is created), never an orphan.
    """
    found: list[Orphans] = []
    for server in await session.scalars(select(DatabaseServer).where(DatabaseServer.deleted_at.is_(None))):
        async with admin_connection(server, vault) as admin:
            databases = [row["datname"] for row in await admin.fetch(
                "SELECT datname FROM pg_database WHERE datname LIKE $1 OR datname LIKE $2 ORDER BY 1",
                TENANT_PREFIX + "%", BUILD_PREFIX + "%",
            )]  # fmt: skip
            roles = [row["rolname"] for row in await admin.fetch(
                "SELECT rolname FROM pg_roles WHERE rolname LIKE $1 ORDER BY 1", TENANT_PREFIX + "%"
            )]  # fmt: skip
        claimed = await _claimed(session, databases + roles)
        orphans = Orphans(
            server=server.name,
            databases=[
                name
                for name in databases
                if name not in claimed and (is_tenant_name(name) or name.startswith(BUILD_PREFIX))
            ],
            roles=[name for name in roles if name not in claimed and is_tenant_name(name)],
        )
        if orphans.databases or orphans.roles:
            found.append(orphans)
    return found


async def _claimed(session: AsyncSession, names: list[str]) -> set[str]:
    if not names:
        return set()
    rows = await session.execute(
        select(Instance.database_name, Instance.database_role).where(
            Instance.status != InstanceStatus.PURGED,
            or_(Instance.database_name.in_(names), Instance.database_role.in_(names)),
        )
    )
    return {name for row in rows for name in row if name}


async def drop_orphans(session: AsyncSession, vault: Vault, orphans: list[Orphans]) -> list[str]:
    """Drop what ``find_orphans`` reported, re-checking each claim just before its drop.

    A template build database is dropped only when no build is running (its lock is free).
    Returns what was dropped.
    """
    servers = {
        s.name: s for s in await session.scalars(select(DatabaseServer).where(DatabaseServer.deleted_at.is_(None)))
    }
    dropped: list[str] = []
    for item in orphans:
        async with admin_connection(servers[item.server], vault) as admin:
            for database in item.databases:
                if database.startswith(BUILD_PREFIX):
                    if await _drop_build_database(admin, database):
                        dropped.append(database)
                elif not await _claimed(session, [database]):
                    await drop_database(admin, database)
                    dropped.append(database)
            for role in item.roles:
                if not await _claimed(session, [role]):
                    await admin.execute(f"DROP ROLE IF EXISTS {quote_ident(role)}")
                    dropped.append(role)
    return dropped


async def _drop_build_database(admin: asyncpg.Connection, database: str) -> bool:
    if not await admin.fetchval("SELECT pg_try_advisory_lock($1)", BUILD_LOCK_KEY):
        return False  # a template is being built right now: its database is not an orphan
    try:
        await drop_database(admin, database)
    finally:
        await admin.execute("SELECT pg_advisory_unlock($1)", BUILD_LOCK_KEY)
    return True
