"""The audit actor of a request: who (when authenticated) and from where."""

from __future__ import annotations

from typing import Any

from litestar import Request

from kitehub.platform.audit.services import AuditActor, actor_from_request


async def provide_audit_actor(request: Request[Any, Any, Any]) -> AuditActor:
    return actor_from_request(request)
