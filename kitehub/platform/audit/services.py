"""The audit trail: one row per change, written in the changing transaction, without secrets.

Services call ``record`` with an ``AuditActor`` (who, from where) and snapshots built from
allow-listed fields only, so no password, hash or ciphertext can reach ``before``/``after``.
"""

from __future__ import annotations

import ipaddress
import uuid
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

from litestar import Request
from sqlalchemy import Select, select
from sqlalchemy.ext.asyncio import AsyncSession

from kitehub.pagination import page
from kitehub.platform.accounts.models import Account
from kitehub.platform.audit.models import AuditLogEntry

SYSTEM_ROLE = "system"


@dataclass(frozen=True, slots=True)
class AuditActor:
    account_id: uuid.UUID | None
    role: str
    ip: str | None = None
    user_agent: str | None = None
    request_id: str | None = None

    def as_account(self, account: Account) -> AuditActor:
        return replace(self, account_id=account.id, role=account.role.value)


SYSTEM = AuditActor(account_id=None, role=SYSTEM_ROLE)


def actor_from_request(request: Request[Any, Any, Any], account: Account | None = None) -> AuditActor:
    ip = request.client.host if request.client else None
    try:
        ip = str(ipaddress.ip_address(ip)) if ip else None
    except ValueError:
        ip = None  # a test client's "testclient" host is no address
    state = request.scope.get("state", {})
    return AuditActor(
        account_id=account.id if account else None,
        role=account.role.value if account else "anonymous",
        ip=ip,
        user_agent=(request.headers.get("user-agent") or "")[:1000] or None,
        request_id=state.get("request_id"),
    )


async def record(
    session: AsyncSession,
    actor: AuditActor,
    action: str,
    target_type: str,
    target_id: uuid.UUID | str | None,
    *,
    before: dict[str, Any] | None = None,
    after: dict[str, Any] | None = None,
) -> None:
    session.add(
        AuditLogEntry(
            actor_id=actor.account_id,
            actor_role=actor.role,
            action=action,
            target_type=target_type,
            target_id=str(target_id) if target_id is not None else None,
            ip=actor.ip,
            user_agent=actor.user_agent,
            request_id=actor.request_id,
            before=before,
            after=after,
        )
    )
    await session.flush()


@dataclass(frozen=True, slots=True)
class AuditQuery:
    actor_id: uuid.UUID | None = None
    action: str | None = None
    target_type: str | None = None
    target_id: str | None = None
    since: datetime | None = None
    until: datetime | None = None


def audit_query(query: AuditQuery) -> Select[AuditLogEntry]:
    statement = select(AuditLogEntry)
    if query.actor_id is not None:
        statement = statement.where(AuditLogEntry.actor_id == query.actor_id)
    if query.action:
        statement = statement.where(AuditLogEntry.action == query.action)
    if query.target_type:
        statement = statement.where(AuditLogEntry.target_type == query.target_type)
    if query.target_id:
        statement = statement.where(AuditLogEntry.target_id == query.target_id)
    if query.since is not None:
        statement = statement.where(AuditLogEntry.occurred_at >= query.since)
    if query.until is not None:
        statement = statement.where(AuditLogEntry.occurred_at < query.until)
    return statement


async def page_of_audit(
    session: AsyncSession, query: AuditQuery, *, limit: int, offset: int
) -> tuple[list[AuditLogEntry], int]:
    """Newest first, with the total of the filtered trail."""
    newest_first = [AuditLogEntry.occurred_at.desc(), AuditLogEntry.id.desc()]
    return await page(session, audit_query(query), newest_first, limit=limit, offset=offset)
