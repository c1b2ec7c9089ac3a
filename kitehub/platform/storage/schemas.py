"""Storage bodies."""

from __future__ import annotations

from pydantic import BaseModel


class StorageResponse(BaseModel):
    used_bytes: int
    limit_bytes: int
    files: int
