"""The connection router: from a request to a session on that tenant's own database.

Resolution (``resolution``) finds the instance, the gate (``gate``) decides what the request may
do, and the engine cache (``engine_cache``) lends a bounded engine built from the tenant's
credentials, which are decrypted only when an engine is built and never logged.
"""

from __future__ import annotations

import asyncio
import contextlib
import uuid
from collections.abc import AsyncIterator, Iterable
from contextlib import asynccontextmanager
from dataclasses import asdict
from typing import Any

import asyncpg
from litestar import Request
from litestar.datastructures import State
from litestar.di import NamedDependency
from sqlalchemy.exc import DBAPIError
from sqlalchemy.exc import TimeoutError as SQLAlchemyTimeoutError
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from kitehub.db import committing
from kitehub.errors import InvalidInputError, NotFoundError, ServiceUnavailableError
from kitehub.logs import get_logger
from kitehub.platform.instances.models import InstanceStatus
from kitehub.provisioning.credentials import database_password_location
from kitehub.provisioning.engine_cache import EngineCache
from kitehub.provisioning.gate import NOT_READY_RETRY_SECONDS, check_access
from kitehub.provisioning.resolution import (
    DEFAULT_TTL_SECONDS,
    INSTANCE_HEADER,
    NOTIFY_CHANNEL,
    LookupKey,
    ResolutionCache,
    ResolvedTenant,
    host_key,
    lookup_key,
)
from kitehub.provisioning.servers import server_url
from kitehub.provisioning.tenant_engines import TenantEngines
from kitehub.provisioning.vault import Vault, VaultError

APPLICATION_NAME = "kitehub-router"
LISTENER_RETRY_SECONDS = 2.0
logger = get_logger(__name__)


class TenantRouter:
    def __init__(
        self,
        *,
        platform_sessions: async_sessionmaker[AsyncSession],
        vault: Vault,
        base_domain: str,
        max_engines: int,
        pool_size: int,
        resolution_ttl_seconds: float = DEFAULT_TTL_SECONDS,
    ) -> None:
        self._vault = vault
        self._base_domain = base_domain
        self.resolutions = ResolutionCache(platform_sessions, resolution_ttl_seconds)
        self.builder = TenantEngines(
            pool_size=pool_size,
            pool_timeout=30,
            pool_recycle=1800,
            connect_args={"server_settings": {"application_name": APPLICATION_NAME}},
        )
        self.engines = EngineCache(max_engines, retire=self.builder.retire)
        self._listener: asyncpg.Connection | None = None
        self._listen_task: asyncio.Task[None] | None = None
        self._background: set[asyncio.Task[None]] = set()

    # -- lifecycle ---------------------------------------------------------------------------------

    async def listen(self, platform_dsn: str) -> None:
        """Follow instance changes made by any process (see resolution's module docstring).

        Runs in the background and reconnects after losing its connection; while it is away the
        cache's time-to-live bounds staleness, and on reconnecting the cache is emptied, since
        notifications sent meanwhile are lost.
        """
        self._listen_task = asyncio.get_running_loop().create_task(self._keep_listening(platform_dsn))

    async def _keep_listening(self, platform_dsn: str) -> None:
        while True:
            lost = asyncio.Event()
            try:
                self._listener = await asyncpg.connect(dsn=platform_dsn)
                self._listener.add_termination_listener(lambda _conn, lost=lost: lost.set())
                await self._listener.add_listener(NOTIFY_CHANNEL, self._on_notify)
                self.resolutions.clear()
                await lost.wait()
            except (OSError, asyncpg.PostgresError) as exc:
                logger.warning("instance change listener unavailable", error=type(exc).__name__)
            await asyncio.sleep(LISTENER_RETRY_SECONDS)

    async def close(self) -> None:
        if self._listen_task is not None:
            self._listen_task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._listen_task
        if self._listener is not None:
            await self._listener.close()
        await self.engines.close()
        await self.builder.close()

    def forget_cached(self, instance_ids: Iterable[uuid.UUID]) -> None:
        """This process changed these instances: the next request looks them up again."""
        for instance_id in instance_ids:
            self.resolutions.forget_instance(instance_id)

    def _on_notify(self, _conn: Any, _pid: int, _channel: str, payload: object) -> None:
        table, _, raw_id = str(payload).partition(":")
        try:
            changed = uuid.UUID(raw_id)
        except ValueError:
            return
        if table == "database_servers":
            instances = self.resolutions.forget_server(changed)
        else:
            self.resolutions.forget_instance(changed)
            instances = [changed]
        for instance_id in instances:
            task = asyncio.get_running_loop().create_task(self.engines.forget(instance_id))
            self._background.add(task)  # keep a reference until done (the loop only holds weak ones)
            task.add_done_callback(self._background.discard)

    async def lookup(self, host: str | None, header: str | None) -> ResolvedTenant:
        """Which instance the request names (404 when none, or deleted); no access decision yet."""
        key = lookup_key(host, header, self._base_domain)
        tenant = await self.resolutions.resolve(key) if key is not None else None
        on_host = host_key(host, self._base_domain)
        if header and on_host is not None and on_host.kind == "domain" and on_host != key:
            # a custom domain that belongs to a tenant may not be redirected to another by header
            owner = await self.resolutions.resolve(on_host)
            if owner is not None and (tenant is None or owner.instance_id != tenant.instance_id):
                raise InvalidInputError(
                    "the Host and the X-KiteHub-Instance header name different instances",
                    extra={
                        "errors": [{"field": INSTANCE_HEADER, "message": "conflicts with Host", "source": "header"}]
                    },
                )
        if tenant is None or tenant.status in (InstanceStatus.DELETED, InstanceStatus.PURGED):
            raise NotFoundError("no such instance")
        return tenant

    async def resolve(self, host: str | None, header: str | None, method: str) -> ResolvedTenant:
        """``lookup`` and the access gate together (what a request may do with its tenant)."""
        return check_access(await self.lookup(host, header), method)

    @asynccontextmanager
    async def session(self, tenant: ResolvedTenant) -> AsyncIterator[AsyncSession]:
        """A session on the tenant's database, connected before the handler runs.

        Every way the database can be out of reach (credentials unreadable, server down, role at
        its connection limit, pool exhausted) becomes a 503 with Retry-After, not a 500.
        """
        lease = self.engines.engine(tenant.instance_id, tenant.fingerprint, lambda: self._build(tenant))
        async with lease as engine, AsyncSession(engine, expire_on_commit=False) as session:
            try:
                await session.connection()
            except (DBAPIError, SQLAlchemyTimeoutError, OSError) as exc:
                logger.warning(
                    "tenant database unreachable", instance_id=str(tenant.instance_id), error=type(exc).__name__
                )
                raise ServiceUnavailableError(
                    f"the database of {tenant.subdomain!r} cannot be reached right now", retry_after_seconds=5
                ) from exc
            yield session

    @asynccontextmanager
    async def instance_session(self, instance_id: uuid.UUID) -> AsyncIterator[AsyncSession]:
        """A session on an instance's database for the platform's own reads (no request gate):
        a usage check before a downgrade, for instance. 503 while the database is not there."""
        tenant = await self.resolutions.resolve(LookupKey("id", str(instance_id)))
        if tenant is None or tenant.status in (InstanceStatus.DELETED, InstanceStatus.PURGED):
            raise NotFoundError("no such instance")
        if tenant.status not in (InstanceStatus.READY, InstanceStatus.SUSPENDED):
            raise ServiceUnavailableError(
                f"the database of {tenant.subdomain!r} is not ready yet", retry_after_seconds=NOT_READY_RETRY_SECONDS
            )
        async with self.session(tenant) as session:
            yield session

    def _build(self, tenant: ResolvedTenant) -> AsyncEngine:
        if not (tenant.server_host and tenant.database_name and tenant.database_role and tenant.password_encrypted):
            raise ServiceUnavailableError(f"instance {tenant.subdomain!r} has no database yet")
        try:
            password = self._vault.decrypt(tenant.password_encrypted, database_password_location(tenant.instance_id))
        except VaultError as exc:  # an operator must act: say so in the log, not to the client
            logger.error("tenant credentials unreadable", instance_id=str(tenant.instance_id), error=str(exc))
            raise ServiceUnavailableError(
                f"the database of {tenant.subdomain!r} cannot be reached right now", retry_after_seconds=60
            ) from None
        url = server_url(
            tenant.server_host,
            tenant.server_port or 5432,
            username=tenant.database_role,
            password=password,
            database=tenant.database_name,
        )
        return self.builder.build(url)

    def stats(self) -> dict[str, Any]:
        return {
            **asdict(self.engines.stats()),
            "engines_reused": self.builder.reused,
            "resolution_hits": self.resolutions.hits,
            "resolution_misses": self.resolutions.misses,
        }


# -- Litestar dependencies -------------------------------------------------------------------------


def provide_tenant_router(state: State) -> TenantRouter:
    router: TenantRouter = state.tenant_router
    return router


async def provide_tenant(request: Request[Any, Any, Any], state: State) -> ResolvedTenant:
    """The instance a tenant request names; the access gate applies once the caller is known."""
    router: TenantRouter = state.tenant_router
    return await router.lookup(request.headers.get("host"), request.headers.get(INSTANCE_HEADER))


async def provide_tenant_session(
    request: Request[Any, Any, Any],
    tenant: NamedDependency[ResolvedTenant],
    tenant_identity: NamedDependency[Any],
    state: State,
) -> AsyncIterator[AsyncSession]:
    """The tenant's own database for an authorised caller, behind the access gate; committed when
    the handler succeeds. Depending on ``tenant_identity`` makes every route touching tenant data
    authenticated, and authentication comes first: strangers learn nothing of the instance's state."""
    router: TenantRouter = state.tenant_router
    check_access(tenant, request.method)
    async with router.session(tenant) as session, committing(session):
        # the identity's own check against the tenant database (a removed user is out at once)
        request.state.tenant_caller = await tenant_identity.verify(session)
        yield session


async def provide_tenant_public_session(
    request: Request[Any, Any, Any], tenant: NamedDependency[ResolvedTenant], state: State
) -> AsyncIterator[AsyncSession]:
    """The tenant's database for its public routes (guest analytics): no caller, the gate as usual."""
    router: TenantRouter = state.tenant_router
    check_access(tenant, request.method)
    async with router.session(tenant) as session, committing(session):
        yield session


async def provide_tenant_login_session(
    tenant: NamedDependency[ResolvedTenant], state: State
) -> AsyncIterator[AsyncSession]:
    """The tenant's database for logging in: the gate applies as to a read (staff of an unpaid
    school can still log in and read)."""
    router: TenantRouter = state.tenant_router
    check_access(tenant, "GET")
    async with router.session(tenant) as session, committing(session):
        yield session
