"""The provisioning steps. Each one is safe to run again after a crash at any point in it."""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable
from contextlib import AsyncExitStack
from dataclasses import dataclass, field
from datetime import UTC, datetime

import asyncpg
from sqlalchemy import select
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncSession

from kitehub.db import libpq_dsn
from kitehub.logs import get_logger
from kitehub.migrate import head_revision
from kitehub.pg_admin import create_database, database_exists, quote_ident, quote_literal
from kitehub.platform.instances.lifecycle import transition
from kitehub.platform.instances.models import Instance, InstanceStatus
from kitehub.platform.subscriptions.models import Subscription
from kitehub.platform.tiers.models import Tier
from kitehub.provisioning.credentials import (
    TENANT_SCRAM_ITERATIONS,
    database_password_location,
    new_password,
    scram_verifier,
    tenant_database_name,
    tenant_role_name,
)
from kitehub.provisioning.models import DatabaseServer
from kitehub.provisioning.schema import upgrade_as
from kitehub.provisioning.servers import admin_url, choose_server
from kitehub.provisioning.template import TEMPLATE_OWNER_ROLE, ensure_template
from kitehub.provisioning.tenant_config import write_instance_config
from kitehub.provisioning.vault import Vault

logger = get_logger(__name__)


@dataclass
class StepContext:
    """One step's view: the locked instance row, its platform transaction, shared connections."""

    session: AsyncSession
    instance: Instance
    run: RunConnections

    @property
    def role(self) -> str:
        assert self.instance.database_role is not None
        return self.instance.database_role

    @property
    def database(self) -> str:
        assert self.instance.database_name is not None
        return self.instance.database_name

    async def server(self) -> DatabaseServer:
        server = await self.session.get(DatabaseServer, self.instance.database_server_id)
        if server is None:
            raise RuntimeError("the instance's database server is not registered")
        return server


@dataclass
class RunConnections:
    """Connections one run opens once and shares between its steps; closed with the run."""

    vault: Vault
    connection_limit: int
    use_template: bool
    stack: AsyncExitStack = field(default_factory=AsyncExitStack)
    _admin: asyncpg.Connection | None = None
    _tenant: asyncpg.Connection | None = None

    async def admin(self, ctx: StepContext) -> asyncpg.Connection:
        """The server's admin, on its maintenance database (CREATE ROLE/DATABASE)."""
        if self._admin is None:
            self._admin = await asyncpg.connect(dsn=libpq_dsn(admin_url(await ctx.server(), self.vault)))
            self.stack.push_async_callback(self._admin.close)
        return self._admin

    async def tenant(self, ctx: StepContext) -> asyncpg.Connection:
        """The admin inside the tenant database, acting as the tenant role (SET ROLE).

        Plain asyncpg: a SQLAlchemy engine would spend round trips on dialect set-up for every
        tenant; one is built only when migrations must run.
        """
        if self._tenant is None:
            url = admin_url(await ctx.server(), self.vault, ctx.database)
            self._tenant = await asyncpg.connect(dsn=libpq_dsn(url))
            self.stack.push_async_callback(self._tenant.close)
            await self._tenant.execute(f"SET ROLE {quote_ident(ctx.role)}")
        return self._tenant


async def placement(ctx: StepContext) -> None:
    if ctx.instance.database_server_id is None:
        ctx.instance.database_server_id = (await choose_server(ctx.session)).id
    ctx.instance.database_name = tenant_database_name(ctx.instance.id)
    ctx.instance.database_role = tenant_role_name(ctx.instance.id)


async def credentials(ctx: StepContext) -> None:
    """The password is stored (encrypted) before the role exists: no crash can lose it."""
    if ctx.instance.database_password_encrypted is None:
        location = database_password_location(ctx.instance.id)
        ctx.instance.database_password_encrypted = ctx.run.vault.encrypt(new_password(), location)


async def role(ctx: StepContext) -> None:
    assert ctx.instance.database_password_encrypted is not None
    location = database_password_location(ctx.instance.id)
    password = ctx.run.vault.decrypt(ctx.instance.database_password_encrypted, location)
    admin = await ctx.run.admin(ctx)
    exists = await admin.fetchval("SELECT 1 FROM pg_roles WHERE rolname = $1", ctx.role)
    verb = "ALTER" if exists else "CREATE"  # ALTER re-applies the stored password after a crash
    verifier = quote_literal(scram_verifier(password, iterations=TENANT_SCRAM_ITERATIONS))
    await admin.execute(
        f"{verb} ROLE {quote_ident(ctx.role)} LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE PASSWORD {verifier}"
    )


async def database(ctx: StepContext) -> None:
    """Clone (or create) the database closed to connections, lock it down, then open it.

    Nobody, not even another tenant's role, can connect between CREATE and REVOKE.
    """
    admin = await ctx.run.admin(ctx)
    if not await database_exists(admin, ctx.database):
        template = await _template(ctx, admin)
        try:
            await create_database(admin, ctx.database, owner=ctx.role, template=template, allow_connections=False)
        except asyncpg.PostgresError as exc:
            if template is None:
                raise
            logger.warning("clone failed; creating an empty database instead", error=f"{type(exc).__name__}: {exc}")
            await create_database(admin, ctx.database, owner=ctx.role, allow_connections=False)
    await privileges(ctx)
    await admin.execute(f"ALTER DATABASE {quote_ident(ctx.database)} WITH ALLOW_CONNECTIONS true")
    tenant = await ctx.run.tenant(ctx)
    async with tenant.transaction():  # one commit for the whole hand-over to the tenant role
        await tenant.execute("RESET ROLE")
        if await tenant.fetchval("SELECT 1 FROM pg_roles WHERE rolname = $1", TEMPLATE_OWNER_ROLE):
            await tenant.execute(f"REASSIGN OWNED BY {quote_ident(TEMPLATE_OWNER_ROLE)} TO {quote_ident(ctx.role)}")
        await tenant.execute(f"ALTER SCHEMA public OWNER TO {quote_ident(ctx.role)}")
        await tenant.execute(f"SET ROLE {quote_ident(ctx.role)}")


async def _template(ctx: StepContext, admin: asyncpg.Connection) -> str | None:
    if not ctx.run.use_template:
        return None
    try:
        return await ensure_template(admin, await ctx.server(), ctx.run.vault)
    except (asyncpg.PostgresError, SQLAlchemyError, OSError, RuntimeError) as exc:
        logger.warning("no tenant template; running migrations instead", error=f"{type(exc).__name__}: {exc}")
        return None


async def privileges(ctx: StepContext) -> None:
    admin = await ctx.run.admin(ctx)
    async with admin.transaction():
        await admin.execute(f"REVOKE ALL ON DATABASE {quote_ident(ctx.database)} FROM PUBLIC")
        await admin.execute(
            f"GRANT CONNECT, TEMPORARY ON DATABASE {quote_ident(ctx.database)} TO {quote_ident(ctx.role)}"
        )


async def connection_limit(ctx: StepContext) -> None:
    admin = await ctx.run.admin(ctx)
    await admin.execute(f"ALTER ROLE {quote_ident(ctx.role)} CONNECTION LIMIT {int(ctx.run.connection_limit)}")


async def schema(ctx: StepContext) -> None:
    """A clone is at head already; a database made without the template is migrated here."""
    if await tenant_revision(await ctx.run.tenant(ctx)) != head_revision("tenant"):
        await upgrade_as(admin_url(await ctx.server(), ctx.run.vault, ctx.database), ctx.role)


async def instance_config(ctx: StepContext) -> None:
    subscription = await ctx.session.scalar(select(Subscription).where(Subscription.instance_id == ctx.instance.id))
    if subscription is None:
        raise RuntimeError("the instance has no subscription")
    tier = await ctx.session.get(Tier, subscription.tier_code)
    assert tier is not None
    await write_instance_config(await ctx.run.tenant(ctx), ctx.instance, tier)


async def schema_revision(ctx: StepContext) -> None:
    ctx.instance.schema_revision = await tenant_revision(await ctx.run.tenant(ctx))


async def ready(ctx: StepContext) -> None:
    ctx.instance.provisioned_at = datetime.now(UTC)
    transition(ctx.session, ctx.instance, InstanceStatus.READY, reason="provisioned")


async def tenant_revision(tenant: asyncpg.Connection) -> str | None:
    if not await tenant.fetchval("SELECT to_regclass('alembic_version') IS NOT NULL"):
        return None
    revision: str | None = await tenant.fetchval("SELECT version_num FROM alembic_version")
    return revision


Step = Callable[[StepContext], Awaitable[None]]
STEPS: dict[str, Step] = {
    "placement": placement,
    "credentials": credentials,
    "role": role,
    "database": database,
    "privileges": privileges,
    "connection_limit": connection_limit,
    "schema": schema,
    "instance_config": instance_config,
    "schema_revision": schema_revision,
    "ready": ready,
}


def instance_lock_key(instance_id: uuid.UUID) -> int:
    """A 64-bit advisory-lock key for one instance (in the platform database)."""
    return int.from_bytes(instance_id.bytes[:8], "big", signed=True)
