"""Landing-page analytics: anonymous sessions and their events, a summary for the school, and a
90-day retention (a periodic job deletes older data in every tenant)."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import delete, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from kitehub.errors import NotFoundError
from kitehub.tenant.courses.models import Course
from kitehub.tenant.guests.models import DeviceType, GuestEvent, GuestSession
from kitehub.tenant.guests.schemas import AnalyticsSummary, Count, CourseCount
from kitehub.tenant.validation import invalid

RETENTION = timedelta(days=90)
SESSION_LIFETIME = timedelta(hours=24)  # events join a session at most this long after it began
MAX_RANGE = timedelta(days=366)
TOP = 10


async def start_session(session: AsyncSession, *, source: str | None, device_type: str) -> GuestSession:
    guest = GuestSession(id=uuid.uuid4(), source=(source or "").strip().lower() or None,
                         device_type=DeviceType(device_type))  # fmt: skip
    session.add(guest)
    await session.flush()
    return guest


async def record_event(
    session: AsyncSession,
    *,
    session_id: uuid.UUID,
    event_type: str,
    course_id: uuid.UUID | None,
    metadata: dict[str, Any],
    now: datetime,
) -> None:
    guest = await session.get(GuestSession, session_id)
    if guest is None or guest.started_at < now - SESSION_LIFETIME:
        raise NotFoundError("no such guest session (start one with POST /tenant/v1/guest/sessions)")
    if course_id is not None:
        course = await session.get(Course, course_id)
        if course is None or course.deleted_at is not None:
            raise invalid("course_id", "no such course")
    session.add(GuestEvent(session_id=guest.id, event_type=event_type, course_id=course_id, event_metadata=metadata))
    await session.flush()


async def summary(session: AsyncSession, since: datetime, until: datetime) -> AnalyticsSummary:
    if since >= until or until - since > MAX_RANGE:
        raise invalid("from", "from must be before to, at most 366 days apart")
    in_range = GuestEvent.occurred_at.between(since, until)
    sessions_in_range = GuestSession.started_at.between(since, until)
    sessions = await session.scalar(select(func.count()).select_from(GuestSession).where(sessions_in_range))
    by_type = (await session.execute(
        select(GuestEvent.event_type, func.count()).where(in_range).group_by(GuestEvent.event_type)
        .order_by(func.count().desc(), GuestEvent.event_type)
    )).all()  # fmt: skip
    courses = (await session.execute(
        select(GuestEvent.course_id, Course.name, func.count())
        .join(Course, Course.id == GuestEvent.course_id, isouter=True)
        .where(in_range, GuestEvent.course_id.is_not(None))
        .group_by(GuestEvent.course_id, Course.name)
        .order_by(func.count().desc(), GuestEvent.course_id)
        .limit(TOP)
    )).all()  # fmt: skip
    sources = await _counts(session, GuestSession.source, sessions_in_range)
    devices = await _counts(session, GuestSession.device_type, sessions_in_range)
    return AnalyticsSummary(
        sessions=int(sessions or 0),
        events=sum(int(n) for _, n in by_type),
        events_by_type=[Count(key=kind, count=int(n)) for kind, n in by_type],
        top_courses=[CourseCount(course_id=course_id, name=name, count=int(n)) for course_id, name, n in courses],
        sources=sources,
        devices=devices,
    )


async def _counts(session: AsyncSession, column: Any, where: Any) -> list[Count]:
    rows = (await session.execute(
        select(column, func.count()).where(where).group_by(column).order_by(func.count().desc(), column).limit(TOP)
    )).all()  # fmt: skip
    return [Count(key=getattr(key, "value", key), count=int(n)) for key, n in rows]


async def purge_old(session: AsyncSession, now: datetime) -> tuple[int, int]:
    """Delete guest data older than 90 days: (sessions, events) deleted."""
    cutoff = now - RETENTION
    events = await session.execute(delete(GuestEvent).where(GuestEvent.occurred_at < cutoff))
    sessions = await session.execute(delete(GuestSession).where(GuestSession.started_at < cutoff))
    return int(sessions.rowcount or 0), int(events.rowcount or 0)  # type: ignore[attr-defined]
