"""Media bodies."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime

from litestar.datastructures import UploadFile
from pydantic import BaseModel


@dataclass
class MediaUpload:
    file: UploadFile


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
