"""What a running KiteHub process holds: the platform engine, the vault, the tenant router and,
optionally, a job worker. Set up and torn down by the app's lifespan."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import asyncpg
from litestar import Litestar
from sqlalchemy import text
from sqlalchemy.engine import URL
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

import kitehub.platform.registry  # noqa: F401 - every table known before mappers configure
from kitehub.auth_limits import AuthLimits
from kitehub.bootstrap import resolve_platform_url
from kitehub.db import create_platform_engine, libpq_dsn, session_factory
from kitehub.errors import KiteHubError
from kitehub.instance_changes import on_commit_forget
from kitehub.job_worker import supervised_worker
from kitehub.logs import get_logger
from kitehub.platform.accounts.services import bootstrap_admin
from kitehub.platform.payments.settlement_batch import SettlementBatcher
from kitehub.provisioning.router import TenantRouter
from kitehub.provisioning.servers import harden_server, register_default_server
from kitehub.provisioning.vault import Vault
from kitehub.rate_limit import RateLimiter
from kitehub.settings import Settings
from kitehub.tenant.media.storage import LocalStorage

logger = get_logger(__name__)
GUEST_SESSIONS_PER_MINUTE = 30  # per address and school
GUEST_EVENTS_PER_MINUTE = 300
STARTUP_LOCK_KEY = 0x6B68_0010  # beside the migration locks (0x6B68_0001/2)
SERVE_WORKER_CONCURRENCY = 2


def lifespan(settings: Settings, *, with_worker: bool) -> Any:
    @asynccontextmanager
    async def run(app: Litestar) -> AsyncIterator[None]:
        url = await resolve_platform_url(settings, stop_embedded_with_process=True)
        engine = create_platform_engine(url)
        sessions = session_factory(engine)
        vault = Vault(settings.keyring)
        router = TenantRouter(
            platform_sessions=sessions,
            vault=vault,
            base_domain=settings.base_domain,
            max_engines=settings.router_max_engines,
            pool_size=settings.tenant_pool_size,
        )
        sessions.configure(info=on_commit_forget(router.forget_cached))  # read your own writes
        settlement = SettlementBatcher(sessions)
        app.state.update(settings=settings, platform_engine=engine, platform_sessions=sessions, vault=vault,
                         tenant_router=router, settlement=settlement,
                         media_storage=LocalStorage(settings.data_dir / "media"),
                         guest_session_limits=RateLimiter(GUEST_SESSIONS_PER_MINUTE),
                         guest_event_limits=RateLimiter(GUEST_EVENTS_PER_MINUTE),
                         auth_limits=AuthLimits.per_minute(settings.auth_rate_limit))  # fmt: skip
        worker: asyncio.Task[None] | None = None
        try:
            await _prepare_platform(settings, sessions, vault, url)
            await router.listen(libpq_dsn(url))
            if with_worker:
                supervised = supervised_worker(settings, url, sessions, vault, concurrency=SERVE_WORKER_CONCURRENCY)
                app.state.job_worker = supervised  # readiness reports it
                worker = asyncio.create_task(supervised.run())
                worker.add_done_callback(_report_worker_end)
            yield
        finally:
            if worker is not None:
                worker.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await worker
            try:
                await settlement.close()
            finally:
                try:
                    await router.close()
                finally:
                    await engine.dispose()

    return run


async def _prepare_platform(
    settings: Settings, sessions: async_sessionmaker[AsyncSession], vault: Vault, url: URL
) -> None:
    """Register (and lock down) the server the platform runs on; create the configured first admin.

    Skipped with a warning when the database is not migrated or reachable yet: /health/ready says so.
    """
    try:
        async with sessions() as guard:
            # API processes starting together (uvicorn workers) take turns: the grants and
            # revokes of the hardening would otherwise collide ("tuple concurrently updated")
            await guard.execute(text("SELECT pg_advisory_lock(:key)"), {"key": STARTUP_LOCK_KEY})
            try:
                await _register_platform(settings, sessions, vault, url)
            finally:
                await guard.execute(text("SELECT pg_advisory_unlock(:key)"), {"key": STARTUP_LOCK_KEY})
    except (OSError, DBAPIError, asyncpg.PostgresError) as exc:
        logger.warning("platform database not ready; skipped start-up registration", error=type(exc).__name__)
    except KiteHubError as exc:
        logger.error("bootstrap admin not created", error=exc.detail)


async def _register_platform(
    settings: Settings, sessions: async_sessionmaker[AsyncSession], vault: Vault, url: URL
) -> None:
    async with sessions() as session, session.begin():
        server = await register_default_server(session, vault, url)
    await harden_server(server, vault, also=(url.database,) if url.database else ())
    if settings.bootstrap_admin_email and settings.bootstrap_admin_password:
        async with sessions() as session, session.begin():
            admin = await bootstrap_admin(
                session, settings.bootstrap_admin_email, settings.bootstrap_admin_password.get_secret_value()
            )
        if admin is not None:
            logger.info("bootstrap admin created", email=admin.email)


def _report_worker_end(task: asyncio.Task[None]) -> None:
    """The supervisor ends only with the process; anything else (a bug) must be seen in the log,
    and readiness answers 503 from then on."""
    if not task.cancelled() and task.exception() is not None:
        logger.error("the job worker supervisor crashed; restart the process", exc_info=task.exception())
