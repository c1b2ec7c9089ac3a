"""Media bodies."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime

from litestar.openapi.spec import OpenAPIMediaType, Operation, RequestBody, Schema
from litestar.openapi.spec.enums import OpenAPIType
from pydantic import BaseModel


@dataclass
class MultipartFileOperation(Operation):
    """The upload's body in the OpenAPI document: the handler streams it rather than declaring it."""

    def __post_init__(self) -> None:
        file = Schema(type=OpenAPIType.STRING, format="binary")  # type: ignore[arg-type]
        form = Schema(type=OpenAPIType.OBJECT, properties={"file": file}, required=["file"])
        self.request_body = RequestBody(content={"multipart/form-data": OpenAPIMediaType(schema=form)}, required=True)


class MediaResponse(BaseModel):
    id: uuid.UUID
    filename: str
    content_type: str
    size_bytes: int
    sha256: str
    created_at: datetime


class MediaPage(BaseModel):
    items: list[MediaResponse]
    total: int
    limit: int
    offset: int
