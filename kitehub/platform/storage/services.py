"""The storage quota: bytes are taken atomically before a file is stored and given back on failure
or deletion, each step an event in ``storage_events``.

Taking is one conditional UPDATE against the instance's tier limit, committed at once by the
caller, so concurrent uploads can never together pass the limit (the row lock orders them).
``reserved_bytes`` stays for uploads that may be paused in the future; what counts is
``used_bytes + reserved_bytes``.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from sqlalchemy import select, text
from sqlalchemy.ext.asyncio import AsyncSession

from kitehub.errors import KiteHubError
from kitehub.platform.storage.models import StorageEvent, StorageEventKind, StorageUsage
from kitehub.platform.subscriptions.models import Subscription
from kitehub.platform.tiers.models import Tier

_TAKE = text(
    "UPDATE storage_usage AS usage SET used_bytes = usage.used_bytes + :bytes, version = usage.version + 1,"
    " updated_at = now() FROM subscriptions AS sub JOIN tiers AS tier ON tier.code = sub.tier_code"
    " WHERE usage.instance_id = :instance_id AND sub.instance_id = usage.instance_id"
    " AND usage.used_bytes + usage.reserved_bytes + :bytes <= tier.storage_limit_bytes"
    " RETURNING usage.used_bytes"
)
_GIVE_BACK = text(
    "UPDATE storage_usage SET used_bytes = greatest(0, used_bytes - :bytes), version = version + 1,"
    " updated_at = now() WHERE instance_id = :instance_id RETURNING used_bytes"
)


class QuotaExceededError(KiteHubError):
    status_code, slug, title = 413, "storage-quota-exceeded", "The storage quota is full"


@dataclass(frozen=True, slots=True)
class Quota:
    used_bytes: int
    limit_bytes: int


async def quota(session: AsyncSession, instance_id: uuid.UUID) -> Quota:
    row = (
        await session.execute(
            select(StorageUsage.used_bytes + StorageUsage.reserved_bytes, Tier.storage_limit_bytes)
            .join(Subscription, Subscription.instance_id == StorageUsage.instance_id)
            .join(Tier, Tier.code == Subscription.tier_code)
            .where(StorageUsage.instance_id == instance_id)
        )
    ).first()
    return Quota(int(row[0]), int(row[1])) if row is not None else Quota(0, 0)


async def committed_and_reserved_bytes(session: AsyncSession, instance_id: uuid.UUID) -> int:
    """Bytes stored plus bytes being uploaded: what a smaller quota would have to hold."""
    return (await quota(session, instance_id)).used_bytes


async def take(session: AsyncSession, instance_id: uuid.UUID, size: int, media_id: uuid.UUID, reason: str) -> None:
    """Count ``size`` bytes against the quota, or 413 with what is used and allowed."""
    if await session.scalar(_TAKE, {"instance_id": instance_id, "bytes": size}) is None:
        current = await quota(session, instance_id)
        raise QuotaExceededError(
            f"{size} bytes do not fit: {current.used_bytes} of {current.limit_bytes} bytes used",
            extra={"used_bytes": current.used_bytes, "limit_bytes": current.limit_bytes, "size_bytes": size},
        )
    session.add(StorageEvent(instance_id=instance_id, kind=StorageEventKind.UPLOAD, bytes_delta=size,
                             media_id=media_id, reason=reason[:200]))  # fmt: skip
    await session.flush()


async def give_back(
    session: AsyncSession, instance_id: uuid.UUID, size: int, media_id: uuid.UUID, kind: StorageEventKind, reason: str
) -> None:
    """Bytes no longer stored: a deleted file (DELETE) or an upload that failed after taking (RELEASE)."""
    await session.execute(_GIVE_BACK, {"instance_id": instance_id, "bytes": size})
    session.add(StorageEvent(instance_id=instance_id, kind=kind, bytes_delta=-size, media_id=media_id, reason=reason))
    await session.flush()


async def set_usage(session: AsyncSession, instance_id: uuid.UUID, used_bytes: int, reason: str) -> int:
    """Reconciliation: make ``used_bytes`` what the stored files add up to (an ADJUST event)."""
    usage = await session.get(StorageUsage, instance_id, with_for_update=True, populate_existing=True)
    if usage is None:
        usage = StorageUsage(instance_id=instance_id, used_bytes=0, reserved_bytes=0)
        session.add(usage)
    delta = used_bytes - usage.used_bytes
    if delta:
        usage.used_bytes = used_bytes
        session.add(StorageEvent(instance_id=instance_id, kind=StorageEventKind.ADJUST, bytes_delta=delta,
                                 reason=reason))  # fmt: skip
    await session.flush()
    return delta
