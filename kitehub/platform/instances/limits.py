"""How many instances one owner may hold (``KITEHUB_MAX_INSTANCES_PER_OWNER``): one client must
not fill the platform with databases."""

from __future__ import annotations

import uuid

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from kitehub.errors import ConflictError
from kitehub.platform.accounts.models import Account, AccountRole
from kitehub.platform.audit.services import AuditActor
from kitehub.platform.instances.models import Instance


class InstanceLimitReachedError(ConflictError):
    slug, title = "instance-limit-reached", "The owner's instance limit is reached"


async def check_instance_limit(session: AsyncSession, actor: AuditActor, owner_id: uuid.UUID, limit: int) -> None:
    """One owner may hold at most ``limit`` live instances (0 = no limit; admins are exempt;
    deleted ones do not count). The owner's account row is locked first, so concurrent creates
    by one owner are counted one after another and cannot together pass the limit."""
    if limit == 0 or actor.role == AccountRole.ADMIN.value:
        return
    await session.execute(select(Account.id).where(Account.id == owner_id).with_for_update())
    live = await session.scalar(
        select(func.count()).select_from(Instance).where(Instance.owner_id == owner_id, Instance.deleted_at.is_(None))
    )
    if int(live or 0) >= limit:
        raise InstanceLimitReachedError(
            f"an owner may have at most {limit} instances (KITEHUB_MAX_INSTANCES_PER_OWNER); delete one first",
            extra={"limit": "max_instances_per_owner", "allowed": limit, "current": int(live or 0)},
        )
