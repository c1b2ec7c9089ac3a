"""Media within the storage quota: bytes are taken from the platform's quota before the file is
stored, and given back on any failure and on deletion.

The quota is taken in its own short platform transaction (committed at once), so concurrent
uploads queue only on that row, not on each other's file writes.
"""

from __future__ import annotations

import re
import uuid
from datetime import UTC, datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from kitehub.errors import NotFoundError
from kitehub.platform.storage.models import StorageEventKind
from kitehub.platform.storage.services import give_back, take
from kitehub.tenant.listing import ordering, page, row_or_404
from kitehub.tenant.media.models import MediaFile
from kitehub.tenant.media.storage import StorageBackend, StoredFile
from kitehub.tenant.validation import invalid

SORTS = {"created_at": MediaFile.created_at, "filename": MediaFile.filename, "size_bytes": MediaFile.size_bytes}
_CONTENT_TYPE = re.compile(r"^[a-z0-9][a-z0-9!#$&^_.+-]{0,62}/[a-z0-9][a-z0-9!#$&^_.+-]{0,62}$")
_UNSAFE = re.compile(r"[\x00-\x1f\x7f/\\]")


def clean_filename(name: str | None) -> str:
    base = _UNSAFE.sub("_", (name or "").replace("\\", "/").rsplit("/", 1)[-1]).strip()
    if not base or base in {".", ".."}:
        raise invalid("file", "the file needs a name")
    return base[:255]


def clean_content_type(value: str | None) -> str:
    kind = (value or "").split(";", 1)[0].strip().lower()
    return kind if _CONTENT_TYPE.match(kind) else "application/octet-stream"


async def upload(
    tenant_session: AsyncSession,
    platform_sessions: async_sessionmaker[AsyncSession],
    storage: StorageBackend,
    instance_id: uuid.UUID,
    *,
    filename: str | None,
    content_type: str | None,
    content: bytes,
    uploaded_by: uuid.UUID | None,
) -> MediaFile:
    name, kind, media_id = clean_filename(filename), clean_content_type(content_type), uuid.uuid4()
    async with platform_sessions() as platform, platform.begin():
        await take(platform, instance_id, len(content), media_id, name)  # 413 when it does not fit
    stored: StoredFile | None = None
    try:
        stored = await storage.save(instance_id, media_id, content)
        media = MediaFile(id=media_id, filename=name, content_type=kind, size_bytes=stored.size_bytes,
                          sha256=stored.sha256, storage_key=stored.key, uploaded_by=uploaded_by)  # fmt: skip
        tenant_session.add(media)
        await tenant_session.commit()  # the record exists before the answer says so
    except BaseException:
        if stored is not None:
            await storage.delete(stored.key)
        async with platform_sessions() as platform, platform.begin():
            await give_back(platform, instance_id, len(content), media_id, StorageEventKind.RELEASE, "upload failed")
        raise
    return media


async def live_media(session: AsyncSession, media_id: uuid.UUID) -> MediaFile:
    return await row_or_404(session, MediaFile, media_id, "file")


async def page_of_media(
    session: AsyncSession, *, search: str | None, sort: str | None, limit: int, offset: int
) -> tuple[list[MediaFile], int]:
    query = select(MediaFile).where(MediaFile.deleted_at.is_(None))
    if search:
        query = query.where(MediaFile.filename.ilike(f"%{search.strip()}%"))
    return await page(session, query, ordering(sort, SORTS, "created_at"), limit=limit, offset=offset)


async def remove(
    tenant_session: AsyncSession,
    platform_sessions: async_sessionmaker[AsyncSession],
    storage: StorageBackend,
    instance_id: uuid.UUID,
    media_id: uuid.UUID,
) -> None:
    """Gone from the school first (committed), then its bytes are freed: a failure in between
    can only leave the quota counting too much, which ``kitehub storage reconcile`` corrects."""
    media = await tenant_session.get(MediaFile, media_id, with_for_update=True, populate_existing=True)
    if media is None or media.deleted_at is not None:
        raise NotFoundError("no such file")
    media.deleted_at = datetime.now(UTC)
    size, key, name = media.size_bytes, media.storage_key, media.filename
    await tenant_session.commit()
    async with platform_sessions() as platform, platform.begin():
        await give_back(platform, instance_id, size, media_id, StorageEventKind.DELETE, name[:200])
    await storage.delete(key)
