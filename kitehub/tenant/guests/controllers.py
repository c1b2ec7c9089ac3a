"""``/tenant/v1/guest/*`` (public, rate-limited per IP) and ``/tenant/v1/analytics/summary`` (admins).

Both belong to the tier's ``engagement`` feature.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Annotated, Any

from litestar import Controller, Request, get, post
from litestar.datastructures import State
from litestar.di import NamedDependency
from litestar.params import JSONBody, QueryParameter
from sqlalchemy.ext.asyncio import AsyncSession

from kitehub.openapi_problems import problems
from kitehub.provisioning.resolution import ResolvedTenant
from kitehub.rate_limit import client_address
from kitehub.tenant.auth import TenantCaller
from kitehub.tenant.features import require_feature
from kitehub.tenant.guests.schemas import (
    AnalyticsSummary,
    EventRecorded,
    GuestEventRequest,
    SessionStarted,
    StartSessionRequest,
)
from kitehub.tenant.guests.services import record_event, start_session, summary
from kitehub.tenant.users.models import TenantRole
from kitehub.tenant.validation import invalid

FEATURE = "engagement"


class GuestController(Controller):
    path = "/guest"
    tags = ["tenant"]  # noqa: RUF012 - Litestar declares it as an instance attribute

    @post("/sessions", status_code=201, summary="A visitor arrives (no sign-in; rate-limited per address)",
          opt=problems(429))  # fmt: skip
    async def start(
        self,
        request: Request[Any, Any, Any],
        data: JSONBody[StartSessionRequest],
        tenant: NamedDependency[ResolvedTenant],
        tenant_public_session: NamedDependency[AsyncSession],
        state: State,
    ) -> SessionStarted:
        state.guest_session_limits.check(str(tenant.instance_id), client_address(request.scope))
        await require_feature(tenant_public_session, FEATURE)
        guest = await start_session(tenant_public_session, source=data.source, device_type=data.device_type)
        return SessionStarted(session_id=guest.id)

    @post("/events", status_code=201, summary="Something a visitor did (page_view, course_view, contact_click...)",
          opt=problems(429))  # fmt: skip
    async def event(
        self,
        request: Request[Any, Any, Any],
        data: JSONBody[GuestEventRequest],
        tenant: NamedDependency[ResolvedTenant],
        tenant_public_session: NamedDependency[AsyncSession],
        state: State,
    ) -> EventRecorded:
        state.guest_event_limits.check(str(tenant.instance_id), client_address(request.scope))
        await require_feature(tenant_public_session, FEATURE)
        await record_event(tenant_public_session, session_id=data.session_id, event_type=data.event_type,
                           course_id=data.course_id, metadata=data.metadata, now=datetime.now(UTC))  # fmt: skip
        return EventRecorded()


class AnalyticsController(Controller):
    path = "/analytics"
    tags = ["tenant"]  # noqa: RUF012 - Litestar declares it as an instance attribute

    @get("/summary", summary="Visitors, events by type, top courses, sources and devices (default: 30 days)")
    async def summary(
        self,
        tenant_caller: NamedDependency[TenantCaller],
        tenant_session: NamedDependency[AsyncSession],
        since: Annotated[datetime | None, QueryParameter(name="from")] = None,
        until: Annotated[datetime | None, QueryParameter(name="to")] = None,
    ) -> AnalyticsSummary:
        tenant_caller.require(TenantRole.ADMIN)
        await require_feature(tenant_session, FEATURE)
        end = _aware(until, "to") or datetime.now(UTC)
        start = _aware(since, "from") or end - timedelta(days=30)
        return await summary(tenant_session, start, end)


def _aware(moment: datetime | None, field: str) -> datetime | None:
    """A time without an offset is taken as UTC; only the years analytics can have make sense."""
    if moment is None:
        return None
    if not 2000 <= moment.year <= 2999:
        raise invalid(field, "a date between the years 2000 and 2999")
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment
