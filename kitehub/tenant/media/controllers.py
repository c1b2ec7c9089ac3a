"""``/tenant/v1/media``: the school's files, for tiers with the ``media`` feature.

Admins upload and delete; all staff list and download.
"""

from __future__ import annotations

import uuid
from typing import Annotated
from urllib.parse import quote

from litestar import Controller, delete, get, post
from litestar.datastructures import State
from litestar.di import NamedDependency
from litestar.enums import RequestEncodingType
from litestar.params import Body, FromPath, QueryParameter
from litestar.response import Stream
from sqlalchemy.ext.asyncio import AsyncSession

from kitehub.errors import NotFoundError
from kitehub.pagination import Limit, Offset
from kitehub.provisioning.resolution import ResolvedTenant
from kitehub.tenant.auth import TenantCaller
from kitehub.tenant.features import require_feature
from kitehub.tenant.media.models import MediaFile
from kitehub.tenant.media.schemas import MediaPage, MediaResponse, MediaUpload
from kitehub.tenant.media.services import live_media, page_of_media, remove, upload
from kitehub.tenant.users.models import TenantRole

MAX_UPLOAD_BYTES = 100 * 1024 * 1024
FEATURE = "media"


def _view(media: MediaFile) -> MediaResponse:
    return MediaResponse.model_validate(media, from_attributes=True)


class MediaController(Controller):
    path = "/media"
    tags = ["tenant"]  # noqa: RUF012 - Litestar declares it as an instance attribute

    @post(summary="Upload a file (multipart field 'file'); 413 when the quota is full", status_code=201,
          request_max_body_size=MAX_UPLOAD_BYTES)  # fmt: skip
    async def create(
        self,
        data: Annotated[MediaUpload, Body(media_type=RequestEncodingType.MULTI_PART)],
        tenant: NamedDependency[ResolvedTenant],
        tenant_caller: NamedDependency[TenantCaller],
        tenant_session: NamedDependency[AsyncSession],
        state: State,
    ) -> MediaResponse:
        tenant_caller.require(TenantRole.ADMIN)
        await require_feature(tenant_session, FEATURE)
        media = await upload(tenant_session, state.platform_sessions, state.media_storage, tenant.instance_id,
                             filename=data.file.filename, content_type=data.file.content_type,
                             content=await data.file.read(), uploaded_by=tenant_caller.user_id)  # fmt: skip
        return _view(media)

    @get(summary="The school's files")
    async def list_all(
        self,
        tenant_session: NamedDependency[AsyncSession],
        q: Annotated[str | None, QueryParameter(max_length=100, description="file name contains")] = None,
        sort: Annotated[
            str | None, QueryParameter(max_length=20, description="created_at, filename, size_bytes")
        ] = None,
        limit: Limit = 50,
        offset: Offset = 0,
    ) -> MediaPage:
        await require_feature(tenant_session, FEATURE)
        rows, total = await page_of_media(tenant_session, search=q, sort=sort, limit=limit, offset=offset)
        return MediaPage(items=[_view(row) for row in rows], total=total, limit=limit, offset=offset)

    @get("/{media_id:uuid}", summary="Download a file")
    async def download(
        self, media_id: FromPath[uuid.UUID], tenant_session: NamedDependency[AsyncSession], state: State
    ) -> Stream:
        await require_feature(tenant_session, FEATURE)
        media = await live_media(tenant_session, media_id)
        if await state.media_storage.size(media.storage_key) is None:  # before any header is sent
            raise NotFoundError("the file's bytes are missing (kitehub storage reconcile reports such files)")
        return Stream(
            state.media_storage.read(media.storage_key),
            media_type=media.content_type,
            headers={
                "Content-Length": str(media.size_bytes),
                "Content-Disposition": f"attachment; filename*=UTF-8''{quote(media.filename, safe='')}",
                "X-Content-Type-Options": "nosniff",
            },
        )

    @delete("/{media_id:uuid}", summary="Delete a file; its bytes are freed", status_code=204)
    async def remove(
        self,
        media_id: FromPath[uuid.UUID],
        tenant: NamedDependency[ResolvedTenant],
        tenant_caller: NamedDependency[TenantCaller],
        tenant_session: NamedDependency[AsyncSession],
        state: State,
    ) -> None:
        tenant_caller.require(TenantRole.ADMIN)
        await require_feature(tenant_session, FEATURE)
        await remove(tenant_session, state.platform_sessions, state.media_storage, tenant.instance_id, media_id)
