"""Where media bytes live. The interface is small so another backend (S3, GCS) can replace the
local one; the local backend keeps files under ``DATA_DIR/media/<instance>/<media>``.

Writes go to a temporary name in the same directory and are renamed into place, so a crash never
leaves a half file under a real key.
"""

from __future__ import annotations

import hashlib
import os
import tempfile
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

import anyio
from anyio import to_thread

CHUNK = 1024 * 1024


@dataclass(frozen=True, slots=True)
class StoredFile:
    key: str
    size_bytes: int
    sha256: str


@dataclass(frozen=True, slots=True)
class FileInfo:
    size_bytes: int
    modified_at: float  # seconds since the epoch


class StorageBackend(Protocol):
    async def save(self, instance_id: uuid.UUID, media_id: uuid.UUID, content: bytes) -> StoredFile: ...

    def read(self, key: str) -> AsyncIterator[bytes]: ...

    async def delete(self, key: str) -> None: ...

    async def size(self, key: str) -> int | None: ...

    async def files(self, instance_id: uuid.UUID) -> dict[str, FileInfo]: ...


class LocalStorage:
    def __init__(self, root: Path) -> None:
        self._root = root

    def _path(self, key: str) -> Path:
        path = (self._root / key).resolve()
        if self._root.resolve() not in path.parents:
            raise ValueError("a storage key must stay inside the storage root")
        return path

    async def save(self, instance_id: uuid.UUID, media_id: uuid.UUID, content: bytes) -> StoredFile:
        key = f"{instance_id}/{media_id}"
        path = self._path(key)

        def write() -> None:
            path.parent.mkdir(parents=True, exist_ok=True)
            fd, temporary = tempfile.mkstemp(dir=path.parent, prefix=".upload-")
            try:
                with os.fdopen(fd, "wb") as handle:
                    handle.write(content)
                    handle.flush()
                    os.fsync(handle.fileno())
                os.replace(temporary, path)
            except BaseException:
                Path(temporary).unlink(missing_ok=True)
                raise

        await to_thread.run_sync(write)
        return StoredFile(key, len(content), hashlib.sha256(content).hexdigest())

    async def read(self, key: str) -> AsyncIterator[bytes]:
        async with await anyio.open_file(self._path(key), "rb") as handle:
            while chunk := await handle.read(CHUNK):
                yield chunk

    async def delete(self, key: str) -> None:
        await to_thread.run_sync(lambda: self._path(key).unlink(missing_ok=True))

    async def size(self, key: str) -> int | None:
        """The stored size, or None when the bytes are not there."""

        def stat() -> int | None:
            try:
                return self._path(key).stat().st_size
            except FileNotFoundError:
                return None

        return await to_thread.run_sync(stat)

    async def files(self, instance_id: uuid.UUID) -> dict[str, FileInfo]:
        """Every stored file of the instance, with its size and age."""
        folder = self._root / str(instance_id)

        def scan() -> dict[str, FileInfo]:
            if not folder.is_dir():
                return {}
            found = {}
            for entry in folder.iterdir():
                if entry.is_file() and not entry.name.startswith("."):
                    status = entry.stat()
                    found[f"{instance_id}/{entry.name}"] = FileInfo(status.st_size, status.st_mtime)
            return found

        return await to_thread.run_sync(scan)
