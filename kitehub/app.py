"""The Litestar application factory."""

from __future__ import annotations

import re
import time
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any, cast

import asyncpg
import structlog
from litestar import Litestar
from litestar.datastructures import MutableScopeHeaders
from litestar.di import Provide
from litestar.enums import ScopeType
from litestar.openapi import OpenAPIConfig
from litestar.openapi.plugins import ScalarRenderPlugin, SwaggerRenderPlugin
from litestar.types import HTTPScope, LifeSpanReceive, LifeSpanScope, LifeSpanSend, Message, Receive, Scope, Send
from sqlalchemy.engine import URL
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

import kitehub.platform.registry  # noqa: F401 - every table known before mappers configure
from kitehub import __version__
from kitehub.bootstrap import resolve_platform_url
from kitehub.db import (
    create_platform_engine,
    libpq_dsn,
    provide_platform_session,
    session_factory,
)
from kitehub.errors import problem_exception_handlers, problem_for_html_errors
from kitehub.logs import configure_logging, get_logger
from kitehub.platform.health.controllers import HealthController
from kitehub.provisioning.router import TenantRouter, provide_tenant_router
from kitehub.provisioning.servers import harden_server, register_default_server
from kitehub.provisioning.vault import Vault
from kitehub.settings import Settings, get_settings
from kitehub.tenant.routes import tenant_router

REQUEST_ID_HEADER = "x-request-id"
_ACCEPTABLE_REQUEST_ID = re.compile(r"^[A-Za-z0-9._:-]{1,128}$")

access_logger = get_logger("kitehub.access")
logger = get_logger(__name__)


class KiteHubApp(Litestar):
    """Litestar plus what must wrap *every* HTTP answer, routed or not.

    Litestar middleware only runs for matched routes, so a 404 would lack its request id; this
    outermost layer gives each request an id (the caller's, when it is sane), echoes it in
    ``X-Request-ID``, binds it to every log line and writes one access line per request.
    """

    async def __call__(
        self,
        scope: Scope | LifeSpanScope,
        receive: Receive | LifeSpanReceive,
        send: Send | LifeSpanSend,
    ) -> None:
        if scope["type"] != ScopeType.HTTP:
            await super().__call__(scope, receive, send)
            return
        scope = cast("HTTPScope", scope)
        send = cast("Send", send)
        request_id = _incoming_request_id(scope) or uuid.uuid4().hex
        scope.setdefault("state", {})["request_id"] = request_id
        status = 500
        started = time.perf_counter()

        async def send_with_request_id(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                MutableScopeHeaders.from_message(message)[REQUEST_ID_HEADER] = request_id
            await send(message)

        with structlog.contextvars.bound_contextvars(request_id=request_id):
            try:
                await super().__call__(scope, receive, send_with_request_id)
            finally:
                access_logger.info(
                    "request",
                    method=scope["method"],
                    path=scope["path"],
                    status=status,
                    duration_ms=round((time.perf_counter() - started) * 1000, 2),
                )


def _incoming_request_id(scope: Scope) -> str | None:
    for name, value in scope.get("headers", []):
        if name == REQUEST_ID_HEADER.encode():
            candidate = value.decode("latin-1")
            return candidate if _ACCEPTABLE_REQUEST_ID.match(candidate) else None
    return None


def _lifespan(settings: Settings) -> Any:
    @asynccontextmanager
    async def lifespan(app: Litestar) -> AsyncIterator[None]:
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
        app.state.update(platform_engine=engine, platform_sessions=sessions, vault=vault, tenant_router=router)
        try:
            await _register_default_server(sessions, vault, url)
            await router.listen(libpq_dsn(url))
            yield
        finally:
            await router.close()
            await engine.dispose()

    return lifespan


async def _register_default_server(sessions: async_sessionmaker[AsyncSession], vault: Vault, url: URL) -> None:
    """The server the platform runs on is where tenants go until an admin adds others."""
    try:
        async with sessions() as session, session.begin():
            server = await register_default_server(session, vault, url)
        await harden_server(server, vault, also=(url.database,) if url.database else ())
    except (
        OSError,
        DBAPIError,
        asyncpg.PostgresError,
    ) as exc:  # not migrated yet, or unreachable: /health/ready says so
        logger.warning("default database server not registered", error=type(exc).__name__)


def create_app(settings: Settings | None = None) -> Litestar:
    """Build the API for ``settings`` (default: the process settings)."""
    settings = settings or get_settings()
    configure_logging(settings)
    return KiteHubApp(
        route_handlers=[HealthController, tenant_router],
        dependencies={
            "platform_session": Provide(provide_platform_session),
            "tenant_router": Provide(provide_tenant_router, sync_to_thread=False),
        },
        exception_handlers=problem_exception_handlers(),
        after_request=problem_for_html_errors,
        lifespan=[_lifespan(settings)],
        openapi_config=OpenAPIConfig(
            title="KiteHub",
            version=__version__,
            description="Control plane for online-school instances: one PostgreSQL database per tenant.",
            path="/schema",
            render_plugins=[ScalarRenderPlugin(), SwaggerRenderPlugin(path="/swagger")],
        ),
        logging_config=None,  # logging is configured by kitehub.logs, not by Litestar
        debug=False,
    )
