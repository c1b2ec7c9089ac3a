"""Storage quota reads (the upload path that reserves bytes arrives with tenant media)."""

from __future__ import annotations

import uuid

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from kitehub.platform.storage.models import StorageUsage


async def committed_and_reserved_bytes(session: AsyncSession, instance_id: uuid.UUID) -> int:
    """Bytes stored plus bytes being uploaded: what a smaller quota would have to hold."""
    row = (
        await session.execute(
            select(StorageUsage.used_bytes, StorageUsage.reserved_bytes).where(StorageUsage.instance_id == instance_id)
        )
    ).first()
    return int(row.used_bytes + row.reserved_bytes) if row is not None else 0
