"""Writing and reading the school's audit trail (in its own database, in the changing transaction).

Rows are written by the services that change staff accounts, with snapshots the caller builds
from allow-listed fields, so no password or hash can reach ``before``/``after``.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Select, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from kitehub.pagination import page
from kitehub.platform.audit.services import AuditActor
from kitehub.tenant.audit.models import TenantAuditEntry
from kitehub.tenant.auth import TenantCaller

OWNER_ROLE = "owner"


@dataclass(frozen=True, slots=True)
class TenantActor:
    """Who acts on the school (the owner, or a staff member and their role), and from where."""

    role: str
    user_id: uuid.UUID | None = None
    account_id: uuid.UUID | None = None
    email: str | None = None
    ip: str | None = None
    user_agent: str | None = None
    request_id: str | None = None


def tenant_actor(caller: TenantCaller, origin: AuditActor) -> TenantActor:
    role = OWNER_ROLE if caller.account_id is not None else caller.role.value
    return TenantActor(role=role, user_id=caller.user_id, account_id=caller.account_id, email=caller.email,
                       ip=origin.ip, user_agent=origin.user_agent, request_id=origin.request_id)  # fmt: skip


async def record(
    session: AsyncSession,
    actor: TenantActor,
    action: str,
    target_user_id: uuid.UUID | None,
    *,
    before: dict[str, Any] | None = None,
    after: dict[str, Any] | None = None,
) -> None:
    session.add(
        TenantAuditEntry(
            actor_role=actor.role,
            actor_user_id=actor.user_id,
            actor_account_id=actor.account_id,
            actor_email=actor.email,
            action=action,
            target_user_id=target_user_id,
            ip=actor.ip,
            user_agent=actor.user_agent,
            request_id=actor.request_id,
            before=before,
            after=after,
        )
    )
    await session.flush()


@dataclass(frozen=True, slots=True)
class TenantAuditQuery:
    action: str | None = None
    actor: uuid.UUID | None = None  # a staff member's id or the owner's account id
    target: uuid.UUID | None = None
    since: datetime | None = None
    until: datetime | None = None

    def statement(self) -> Select[TenantAuditEntry]:
        statement = select(TenantAuditEntry)
        if self.action:
            statement = statement.where(TenantAuditEntry.action == self.action)
        if self.actor is not None:
            statement = statement.where(
                or_(TenantAuditEntry.actor_user_id == self.actor, TenantAuditEntry.actor_account_id == self.actor)
            )
        if self.target is not None:
            statement = statement.where(TenantAuditEntry.target_user_id == self.target)
        if self.since is not None:
            statement = statement.where(TenantAuditEntry.occurred_at >= self.since)
        if self.until is not None:
            statement = statement.where(TenantAuditEntry.occurred_at < self.until)
        return statement


async def page_of_audit(
    session: AsyncSession, query: TenantAuditQuery, *, limit: int, offset: int
) -> tuple[list[TenantAuditEntry], int]:
    """Newest first, with the total of the filtered trail."""
    newest_first = [TenantAuditEntry.occurred_at.desc(), TenantAuditEntry.id.desc()]
    return await page(session, query.statement(), newest_first, limit=limit, offset=offset)
