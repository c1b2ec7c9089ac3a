"""Media within the storage quota: bytes are taken from the platform's quota before the file is
stored, and given back on any failure and on deletion.

An upload takes its declared size (the request's ``Content-Length``) before a byte of the body
is read, streams the file to storage, then gives back what the file did not use. The quota is
taken in its own short platform transaction (committed at once), so concurrent uploads queue
only on that row, not on each other's file writes. Whatever fails (a bad body, a body longer than
declared, storage that cannot be written), no record is left and every byte taken is given back.
"""

from __future__ import annotations

import contextlib
import re
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from kitehub.errors import NotFoundError
from kitehub.pagination import page
from kitehub.platform.storage.models import StorageEventKind
from kitehub.platform.storage.services import give_back, take
from kitehub.tenant.listing import ordering, row_or_404
from kitehub.tenant.media.models import MediaFile
from kitehub.tenant.media.storage import StorageBackend, StorageUnavailableError
from kitehub.tenant.media.upload_stream import first_file
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
    body: AsyncIterator[bytes],
    boundary: bytes,
    declared_bytes: int,
    uploaded_by: uuid.UUID | None,
) -> MediaFile:
    """Store the multipart ``body``'s file within the quota, taken from ``declared_bytes`` first."""
    media_id = uuid.uuid4()
    async with platform_sessions() as platform, platform.begin():
        await take(platform, instance_id, declared_bytes, media_id, "upload")  # 413 when it does not fit
    taken, stored = declared_bytes, None
    try:
        part = await first_file(body, boundary, declared_bytes)
        name, kind = clean_filename(part.filename), clean_content_type(part.content_type)
        stored = await storage.save(instance_id, media_id, part.data)
        if stored.size_bytes < taken:
            async with platform_sessions() as platform, platform.begin():
                await give_back(platform, instance_id, taken - stored.size_bytes, media_id, StorageEventKind.RELEASE,
                                "the declared size less the stored file")  # fmt: skip
            taken = stored.size_bytes
        media = MediaFile(id=media_id, filename=name, content_type=kind, size_bytes=stored.size_bytes,
                          sha256=stored.sha256, storage_key=stored.key, uploaded_by=uploaded_by)  # fmt: skip
        tenant_session.add(media)
        await tenant_session.commit()  # the record exists before the answer says so
    except BaseException:
        if stored is not None:
            with contextlib.suppress(StorageUnavailableError):  # a stray file is reconcile's to remove
                await storage.delete(stored.key)
        async with platform_sessions() as platform, platform.begin():
            await give_back(platform, instance_id, taken, media_id, StorageEventKind.RELEASE, "upload failed")
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
    """Row and file go together, or neither: the file is moved aside first (storage that cannot
    be written stops here, 503, nothing changed), then the record is marked deleted and committed
    (a failure brings the file back), then the bytes are freed and the file removed. Only a crash
    after the commit can leave the quota counting too much, which ``kitehub storage reconcile``
    corrects."""
    media = await tenant_session.get(MediaFile, media_id, with_for_update=True, populate_existing=True)
    if media is None or media.deleted_at is not None:
        raise NotFoundError("no such file")
    size, key, name = media.size_bytes, media.storage_key, media.filename
    aside = await storage.set_aside(key)
    try:
        media.deleted_at = datetime.now(UTC)
        await tenant_session.commit()
    except BaseException:
        if aside is not None:
            await storage.restore(aside, key)
        raise
    async with platform_sessions() as platform, platform.begin():
        await give_back(platform, instance_id, size, media_id, StorageEventKind.DELETE, name[:200])
    if aside is not None:
        with contextlib.suppress(StorageUnavailableError):  # logged; the record and the quota are done
            await storage.delete(aside)
