"""The provisioner: gives an instance its own role and database, step by recorded step.

Each step runs in its own platform transaction holding the instance row lock, is recorded in
``provisioning_steps`` and is safe to run again: a retry after any failure (or crash) skips the
steps recorded DONE and repeats the rest. The password is generated and stored encrypted before
the role exists, so no crash can leave a role whose password nobody knows.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Awaitable, Callable
from contextlib import AsyncExitStack
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Literal

import asyncpg
from sqlalchemy import select, text
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker, create_async_engine
from sqlalchemy.pool import NullPool

import kitehub.platform.registry  # noqa: F401 - every table known before mappers configure
from kitehub.db import libpq_dsn
from kitehub.errors import ConflictError, NotFoundError
from kitehub.logs import get_logger
from kitehub.migrate import head_revision, upgrade
from kitehub.pg_admin import create_database, database_exists, quote_ident, quote_literal
from kitehub.platform.instances.lifecycle import transition
from kitehub.platform.instances.models import Instance, InstanceStatus
from kitehub.platform.subscriptions.models import Subscription
from kitehub.platform.tiers.models import Tier
from kitehub.provisioning.credentials import (
    new_password,
    scram_verifier,
    tenant_database_name,
    tenant_role_name,
)
from kitehub.provisioning.models import DatabaseServer, ProvisioningStep, ProvisioningStepStatus
from kitehub.provisioning.servers import admin_connection, admin_url, choose_server
from kitehub.provisioning.template import TEMPLATE_OWNER_ROLE, ensure_template
from kitehub.provisioning.vault import SecretLocation, Vault

STEPS = (
    "placement",
    "credentials",
    "role",
    "database",
    "privileges",
    "connection_limit",
    "schema",
    "instance_config",
    "schema_revision",
    "ready",
)
DATABASE_PASSWORD_PURPOSE = "instance.database_password"  # noqa: S105 - a label
MAX_ERROR_LENGTH = 2000

Phase = Literal["before", "after"]
StepHook = Callable[[str, Phase], Awaitable[None]]

logger = get_logger(__name__)


class ProvisioningFailedError(Exception):
    def __init__(self, instance_id: uuid.UUID, step: str, error: str) -> None:
        super().__init__(f"provisioning of {instance_id} failed at step {step!r}: {error}")
        self.instance_id, self.step, self.error = instance_id, step, error


def database_password_location(instance_id: uuid.UUID) -> SecretLocation:
    return SecretLocation(DATABASE_PASSWORD_PURPOSE, str(instance_id))


@dataclass
class _Run:
    """What one provisioning run opens once and shares between its steps."""

    instance_id: uuid.UUID
    stack: AsyncExitStack = field(default_factory=AsyncExitStack)
    admin: asyncpg.Connection | None = None
    tenant: asyncpg.Connection | None = None


class Provisioner:
    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        vault: Vault,
        *,
        connection_limit: int = 20,
        use_template: bool = True,
        on_step: StepHook | None = None,
    ) -> None:
        self._sessions = sessions
        self._vault = vault
        self._connection_limit = connection_limit
        self._use_template = use_template
        self._on_step = on_step

    async def provision(self, instance_id: uuid.UUID) -> None:
        """Run every step not yet done; the instance ends READY, or FAILED with the error."""
        run = _Run(instance_id)
        async with run.stack:
            for step in STEPS:
                await self._run_step(run, step)

    async def retry(self, instance_id: uuid.UUID, *, actor_id: uuid.UUID | None = None) -> None:
        async with self._sessions() as session, session.begin():
            instance = await self._locked_instance(session, instance_id)
            transition(session, instance, InstanceStatus.PROVISIONING, actor_id=actor_id, reason="retry")
        await self.provision(instance_id)

    async def steps(self, instance_id: uuid.UUID) -> dict[str, ProvisioningStep]:
        async with self._sessions() as session:
            rows = await session.scalars(select(ProvisioningStep).where(ProvisioningStep.instance_id == instance_id))
            return {row.step: row for row in rows}

    # -- the ledger -----------------------------------------------------------------------------

    async def _run_step(self, run: _Run, step: str) -> None:
        async with self._sessions() as session, session.begin():
            instance = await self._locked_instance(session, run.instance_id)
            if instance.status is not InstanceStatus.PROVISIONING:
                raise ConflictError(f"instance {instance.subdomain!r} is {instance.status.value}, not PROVISIONING")
            ledger = await session.get(ProvisioningStep, (run.instance_id, step))
            if ledger is not None and ledger.status is ProvisioningStepStatus.DONE:
                return
            try:
                if self._on_step is not None:
                    await self._on_step(step, "before")
                await getattr(self, f"_step_{step}")(session, run, instance)
                if self._on_step is not None:
                    await self._on_step(step, "after")
            except Exception as exc:
                error = f"{type(exc).__name__}: {exc}"[:MAX_ERROR_LENGTH]
                await session.rollback()
                await self._record_failure(run.instance_id, step, error)
                raise ProvisioningFailedError(run.instance_id, step, error) from exc
            now = datetime.now(UTC)
            if ledger is None:
                session.add(
                    ProvisioningStep(
                        instance_id=run.instance_id, step=step, status=ProvisioningStepStatus.DONE, finished_at=now
                    )
                )
            else:
                ledger.status, ledger.attempts, ledger.error, ledger.finished_at = (
                    ProvisioningStepStatus.DONE,
                    ledger.attempts + 1,
                    None,
                    now,
                )

    async def _record_failure(self, instance_id: uuid.UUID, step: str, error: str) -> None:
        async with self._sessions() as session, session.begin():
            instance = await self._locked_instance(session, instance_id)
            ledger = await session.get(ProvisioningStep, (instance_id, step))
            if ledger is None:
                session.add(
                    ProvisioningStep(
                        instance_id=instance_id, step=step, status=ProvisioningStepStatus.FAILED, error=error
                    )
                )
            else:
                ledger.status, ledger.attempts, ledger.error = ProvisioningStepStatus.FAILED, ledger.attempts + 1, error
            if instance.status is InstanceStatus.PROVISIONING:
                transition(session, instance, InstanceStatus.FAILED, reason=f"step {step}: {error}")
        logger.warning("provisioning step failed", instance_id=str(instance_id), step=step, error=error)

    @staticmethod
    async def _locked_instance(session: AsyncSession, instance_id: uuid.UUID) -> Instance:
        instance = await session.get(Instance, instance_id, with_for_update=True, populate_existing=True)
        if instance is None:
            raise NotFoundError(f"no instance {instance_id}")
        return instance

    # -- connections shared by the steps of one run ---------------------------------------------

    async def _server(self, session: AsyncSession, instance: Instance) -> DatabaseServer:
        server = await session.get(DatabaseServer, instance.database_server_id)
        if server is None:
            raise RuntimeError("the instance has no database server yet")
        return server

    async def _admin(self, session: AsyncSession, run: _Run, instance: Instance) -> asyncpg.Connection:
        if run.admin is None:
            server = await self._server(session, instance)
            run.admin = await run.stack.enter_async_context(admin_connection(server, self._vault))
        return run.admin

    async def _tenant(self, session: AsyncSession, run: _Run, instance: Instance) -> asyncpg.Connection:
        """Admin connection to the tenant database, acting as the tenant role (SET ROLE).

        A plain asyncpg connection: a SQLAlchemy engine would spend several round trips on
        dialect initialisation for every tenant; one is built only when migrations must run.
        """
        if run.tenant is None:
            server = await self._server(session, instance)
            run.tenant = await asyncpg.connect(dsn=libpq_dsn(admin_url(server, self._vault, instance.database_name)))
            run.stack.push_async_callback(run.tenant.close)
            await run.tenant.execute(f"SET ROLE {quote_ident(self._role(instance))}")
        return run.tenant

    @staticmethod
    def _role(instance: Instance) -> str:
        assert instance.database_role is not None
        return instance.database_role

    @staticmethod
    def _database(instance: Instance) -> str:
        assert instance.database_name is not None
        return instance.database_name

    # -- the steps --------------------------------------------------------------------------------

    async def _step_placement(self, session: AsyncSession, run: _Run, instance: Instance) -> None:
        if instance.database_server_id is None:
            instance.database_server_id = (await choose_server(session)).id
        instance.database_name = tenant_database_name(instance.id)
        instance.database_role = tenant_role_name(instance.id)

    async def _step_credentials(self, session: AsyncSession, run: _Run, instance: Instance) -> None:
        if instance.database_password_encrypted is None:
            instance.database_password_encrypted = self._vault.encrypt(
                new_password(), database_password_location(instance.id)
            )

    async def _step_role(self, session: AsyncSession, run: _Run, instance: Instance) -> None:
        assert instance.database_password_encrypted is not None
        password = self._vault.decrypt(instance.database_password_encrypted, database_password_location(instance.id))
        role, verifier = quote_ident(self._role(instance)), quote_literal(scram_verifier(password))
        admin = await self._admin(session, run, instance)
        exists = await admin.fetchval("SELECT 1 FROM pg_roles WHERE rolname = $1", self._role(instance))
        verb = "ALTER" if exists else "CREATE"  # ALTER re-applies the stored password after a crash
        await admin.execute(f"{verb} ROLE {role} LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE PASSWORD {verifier}")

    async def _step_database(self, session: AsyncSession, run: _Run, instance: Instance) -> None:
        admin = await self._admin(session, run, instance)
        role = quote_ident(self._role(instance))
        if not await database_exists(admin, self._database(instance)):
            template = await self._template(session, admin, instance)
            await create_database(admin, self._database(instance), owner=self._role(instance), template=template)
        tenant = await self._tenant(session, run, instance)
        async with tenant.transaction():  # one commit (one WAL flush) for the whole hand-over
            await tenant.execute("RESET ROLE")
            if await tenant.fetchval("SELECT 1 FROM pg_roles WHERE rolname = $1", TEMPLATE_OWNER_ROLE):
                await tenant.execute(f"REASSIGN OWNED BY {quote_ident(TEMPLATE_OWNER_ROLE)} TO {role}")
            await tenant.execute(f"ALTER SCHEMA public OWNER TO {role}")
            await tenant.execute(f"SET ROLE {role}")

    async def _template(self, session: AsyncSession, admin: asyncpg.Connection, instance: Instance) -> str | None:
        if not self._use_template:
            return None
        try:
            return await ensure_template(admin, await self._server(session, instance), self._vault)
        except (asyncpg.PostgresError, OSError, RuntimeError) as exc:
            logger.warning("no tenant template; running migrations instead", error=f"{type(exc).__name__}: {exc}")
            return None

    async def _step_privileges(self, session: AsyncSession, run: _Run, instance: Instance) -> None:
        admin = await self._admin(session, run, instance)
        database, role = quote_ident(self._database(instance)), quote_ident(self._role(instance))
        async with admin.transaction():
            await admin.execute(f"REVOKE ALL ON DATABASE {database} FROM PUBLIC")
            await admin.execute(f"GRANT CONNECT, TEMPORARY ON DATABASE {database} TO {role}")

    async def _step_connection_limit(self, session: AsyncSession, run: _Run, instance: Instance) -> None:
        admin = await self._admin(session, run, instance)
        await admin.execute(
            f"ALTER ROLE {quote_ident(self._role(instance))} CONNECTION LIMIT {int(self._connection_limit)}"
        )

    async def _step_schema(self, session: AsyncSession, run: _Run, instance: Instance) -> None:
        """A clone is at head already; a database made without the template is migrated here."""
        tenant = await self._tenant(session, run, instance)
        if await _tenant_revision(tenant) == head_revision("tenant"):
            return
        server = await self._server(session, instance)
        engine = create_async_engine(admin_url(server, self._vault, instance.database_name), poolclass=NullPool)
        try:
            async with engine.begin() as connection:
                await connection.execute(text(f"SET ROLE {quote_ident(self._role(instance))}"))
                await upgrade(connection, "tenant", "head")
        finally:
            await engine.dispose()

    async def _step_instance_config(self, session: AsyncSession, run: _Run, instance: Instance) -> None:
        subscription = await session.scalar(select(Subscription).where(Subscription.instance_id == instance.id))
        if subscription is None:
            raise RuntimeError("the instance has no subscription")
        tier = await session.get(Tier, subscription.tier_code)
        assert tier is not None
        tenant = await self._tenant(session, run, instance)
        await tenant.execute(
            "INSERT INTO instance_config (id, instance_id, subdomain, tier_code, features, limitations,"
            " storage_limit_bytes, synced_at) VALUES (1, $1, $2, $3, $4::jsonb, $5::jsonb, $6, now())"
            " ON CONFLICT (id) DO UPDATE SET instance_id = EXCLUDED.instance_id, subdomain = EXCLUDED.subdomain,"
            " tier_code = EXCLUDED.tier_code, features = EXCLUDED.features, limitations = EXCLUDED.limitations,"
            " storage_limit_bytes = EXCLUDED.storage_limit_bytes, synced_at = EXCLUDED.synced_at",
            instance.id,
            instance.subdomain,
            tier.code,
            json.dumps(tier.features),
            json.dumps(tier.limitations),
            tier.storage_limit_bytes,
        )

    async def _step_schema_revision(self, session: AsyncSession, run: _Run, instance: Instance) -> None:
        instance.schema_revision = await _tenant_revision(await self._tenant(session, run, instance))

    async def _step_ready(self, session: AsyncSession, run: _Run, instance: Instance) -> None:
        instance.provisioned_at = datetime.now(UTC)
        transition(session, instance, InstanceStatus.READY, reason="provisioned")


async def _tenant_revision(tenant: asyncpg.Connection) -> str | None:
    if not await tenant.fetchval("SELECT to_regclass('alembic_version') IS NOT NULL"):
        return None
    revision: str | None = await tenant.fetchval("SELECT version_num FROM alembic_version")
    return revision
