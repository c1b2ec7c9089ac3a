"""The Litestar application factory."""

from __future__ import annotations

import re
import time
import uuid
from typing import cast

import structlog
from litestar import Litestar
from litestar.datastructures import MutableScopeHeaders
from litestar.di import Provide
from litestar.enums import ScopeType
from litestar.openapi import OpenAPIConfig
from litestar.openapi.plugins import ScalarRenderPlugin, SwaggerRenderPlugin
from litestar.types import HTTPScope, LifeSpanReceive, LifeSpanScope, LifeSpanSend, Message, Receive, Scope, Send

from kitehub import __version__
from kitehub.db import provide_platform_session
from kitehub.errors import problem_exception_handlers, problem_for_html_errors
from kitehub.logs import configure_logging, get_logger
from kitehub.openapi_problems import ProblemResponses
from kitehub.platform.accounts.controllers import AuthController, MeController
from kitehub.platform.accounts.dependencies import provide_current_account, provide_current_admin
from kitehub.platform.admin.controllers import AdminController
from kitehub.platform.admin.migrations import MigrationController
from kitehub.platform.audit.dependencies import provide_audit_actor
from kitehub.platform.health.controllers import HealthController
from kitehub.platform.instances.controllers import InstanceController
from kitehub.platform.payments.admin_controllers import BillingAdminController
from kitehub.platform.payments.controllers import PaymentOrderController
from kitehub.platform.payments.webhook_controllers import WebhookController
from kitehub.platform.storage.controllers import StorageController
from kitehub.platform.subscriptions.controllers import SubscriptionController
from kitehub.platform.tiers.admin_controllers import TierAdminController
from kitehub.platform.tiers.controllers import TierController
from kitehub.provisioning.router import provide_tenant_router
from kitehub.runtime import lifespan
from kitehub.schemas import KiteHubRequest
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


def create_app(settings: Settings | None = None, *, with_worker: bool = False) -> Litestar:
    """Build the API for ``settings`` (default: the process settings).

    ``with_worker`` also works the job queue in this process (what ``kitehub serve`` does).
    """
    settings = settings or get_settings()
    configure_logging(settings)
    return KiteHubApp(
        route_handlers=[
            HealthController,
            AuthController,
            MeController,
            InstanceController,
            TierController,
            SubscriptionController,
            StorageController,
            PaymentOrderController,
            WebhookController,
            AdminController,
            TierAdminController,
            BillingAdminController,
            MigrationController,
            tenant_router,
        ],
        dependencies={
            "platform_session": Provide(provide_platform_session),
            "tenant_router": Provide(provide_tenant_router, sync_to_thread=False),
            "current_account": Provide(provide_current_account),
            "current_admin": Provide(provide_current_admin),
            "audit_actor": Provide(provide_audit_actor),
        },
        request_class=KiteHubRequest,
        exception_handlers=problem_exception_handlers(),
        after_request=problem_for_html_errors,
        plugins=[ProblemResponses()],  # every operation documents the problems it can answer
        lifespan=[lifespan(settings, with_worker=with_worker)],
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
