"""``kitehub storage reconcile``: recompute each school's used bytes from the files it really has.

The truth is the stored files that have a live media record. A crash between taking the quota
and storing (or between deleting and freeing) leaves the counter too high; a file without a
record (or a record without a file) is reported, and ``fix`` corrects the counter, removes the
stray files and marks records whose file is gone as deleted. A delete that crashed before its
record was committed left the file set aside: ``fix`` puts it back under its record. Files younger than ten minutes are
left alone (an upload in flight); run ``--fix`` when uploads are quiet, since the counter is set
from what was read.
"""

from __future__ import annotations

import time
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from kitehub.platform.instances.models import Instance
from kitehub.platform.storage.services import quota, set_usage
from kitehub.provisioning.tenant_access import tenant_session
from kitehub.provisioning.tenant_config import REACHABLE
from kitehub.provisioning.vault import Vault
from kitehub.tenant.media.models import MediaFile
from kitehub.tenant.media.storage import StorageBackend, aside_key

SETTLE_SECONDS = 600.0


@dataclass(slots=True)
class Reconciliation:
    instance_id: uuid.UUID
    subdomain: str
    counted_bytes: int
    stored_bytes: int
    stray_files: list[str] = field(default_factory=list)
    missing_files: list[uuid.UUID] = field(default_factory=list)

    @property
    def consistent(self) -> bool:
        return self.counted_bytes == self.stored_bytes and not self.stray_files and not self.missing_files


async def reconcile(
    sessions: async_sessionmaker[AsyncSession],
    vault: Vault,
    storage: StorageBackend,
    *,
    fix: bool,
    settle_seconds: float = SETTLE_SECONDS,
) -> list[Reconciliation]:
    async with sessions() as session:
        instances = list(await session.scalars(select(Instance).where(Instance.status.in_(REACHABLE))))
    results = []
    for instance in instances:
        on_disk = await storage.files(instance.id)
        async with tenant_session(sessions, vault, instance.id) as tenant:
            records = list(await tenant.scalars(select(MediaFile).where(MediaFile.deleted_at.is_(None))))
            known = {media.storage_key for media in records}
            missing = [media for media in records if media.storage_key not in on_disk]
            if fix:
                for media in list(missing):
                    if (aside := aside_key(media.storage_key)) in on_disk:  # an interrupted delete
                        await storage.restore(aside, media.storage_key)
                        on_disk[media.storage_key] = on_disk.pop(aside)
                        missing.remove(media)
                for media in missing:
                    media.deleted_at = datetime.now(UTC)
        stored = sum(info.size_bytes for key, info in on_disk.items() if key in known)
        settled = time.time() - settle_seconds  # a younger file may be an upload whose record is not committed yet
        strays = sorted(key for key, info in on_disk.items() if key not in known and info.modified_at <= settled)
        async with sessions() as session:
            counted = (await quota(session, instance.id)).used_bytes
        result = Reconciliation(instance.id, instance.subdomain, counted, stored,
                                strays, [media.id for media in missing])  # fmt: skip
        if fix:
            for key in result.stray_files:
                await storage.delete(key)
            async with sessions() as session, session.begin():
                await set_usage(session, instance.id, stored, "kitehub storage reconcile")
        results.append(result)
    return results
