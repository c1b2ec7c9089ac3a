"""``/tenant/v1/media``: the school's files, for tiers with the ``media`` feature.

Admins upload and delete; all staff list and download.
"""

from __future__ import annotations

import uuid
from typing import Annotated, Any
from urllib.parse import quote

from litestar import Controller, Request, delete, get, post
from litestar.datastructures import State
from litestar.di import NamedDependency
from litestar.exceptions.http_exceptions import RequestEntityTooLarge
from litestar.params import FromPath, QueryParameter
from litestar.response import Stream
from sqlalchemy.ext.asyncio import AsyncSession

from kitehub.errors import NotFoundError
from kitehub.openapi_problems import problems
from kitehub.pagination import Limit, Offset
from kitehub.provisioning.resolution import ResolvedTenant
from kitehub.tenant.auth import TenantCaller
from kitehub.tenant.features import require_feature
from kitehub.tenant.media.models import MediaFile
from kitehub.tenant.media.schemas import MediaPage, MediaResponse, MultipartFileOperation
from kitehub.tenant.media.services import live_media, page_of_media, remove, upload
from kitehub.tenant.media.upload_stream import LengthRequiredError
from kitehub.tenant.users.models import TenantRole
from kitehub.tenant.validation import invalid

MAX_UPLOAD_BYTES = 100 * 1024 * 1024
FEATURE = "media"


def _view(media: MediaFile) -> MediaResponse:
    return MediaResponse.model_validate(media, from_attributes=True)


class MediaController(Controller):
    path = "/media"
    tags = ["tenant"]  # noqa: RUF012 - Litestar declares it as an instance attribute

    @post(summary="Upload a file (multipart field 'file'); 413 when the quota is full", status_code=201,
          request_max_body_size=MAX_UPLOAD_BYTES, operation_class=MultipartFileOperation,
          opt=problems(400, 411, 413))  # fmt: skip
    async def create(
        self,
        request: Request[Any, Any, Any],
        tenant: NamedDependency[ResolvedTenant],
        tenant_caller: NamedDependency[TenantCaller],
        tenant_session: NamedDependency[AsyncSession],
        state: State,
    ) -> MediaResponse:
        """The body is streamed to storage, never read whole: its declared length is taken from the
        quota first, so a body the quota cannot hold is refused before it is read."""
        tenant_caller.require(TenantRole.ADMIN)
        await require_feature(tenant_session, FEATURE)
        declared = request.content_length
        if declared is None:
            raise LengthRequiredError("send the upload with a Content-Length")
        if declared > MAX_UPLOAD_BYTES:
            raise RequestEntityTooLarge
        media_type, options = request.content_type
        if media_type != "multipart/form-data" or not options.get("boundary"):
            raise invalid("file", "send the file as multipart/form-data, in the field 'file'")
        media = await upload(tenant_session, state.platform_sessions, state.media_storage, tenant.instance_id,
                             body=request.stream(), boundary=options["boundary"].encode(), declared_bytes=declared,
                             uploaded_by=tenant_caller.user_id)  # fmt: skip
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
