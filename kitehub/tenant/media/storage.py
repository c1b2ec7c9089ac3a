"""Where media bytes live. The interface is small so another backend (S3, GCS) can replace the
local one; the local backend keeps files under ``DATA_DIR/media/<instance>/<media>``.

Writes stream to a temporary name in the same directory, a block at a time, and are renamed into
place, so a crash never leaves a half file under a real key and an upload never sits in memory.
A delete first moves the file aside (undoable) and removes it only once its record is gone.
Storage that cannot be written is ``StorageUnavailableError`` (503), never a bare ``OSError``.
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import os
import tempfile
import uuid
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import ParamSpec, Protocol, TypeVar

import anyio
from anyio import to_thread

from kitehub.errors import ServiceUnavailableError
from kitehub.logs import get_logger

CHUNK = 1024 * 1024
ASIDE_PREFIX = ".deleting-"

logger = get_logger(__name__)
P = ParamSpec("P")
T = TypeVar("T")


class StorageUnavailableError(ServiceUnavailableError):
    def __init__(self) -> None:
        super().__init__("media storage cannot be written right now; try again later", retry_after_seconds=30)


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
    async def save(self, instance_id: uuid.UUID, media_id: uuid.UUID, content: AsyncIterator[bytes]) -> StoredFile: ...

    def read(self, key: str) -> AsyncIterator[bytes]: ...

    async def delete(self, key: str) -> None: ...

    async def set_aside(self, key: str) -> str | None: ...

    async def restore(self, aside: str, key: str) -> None: ...

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

    async def save(self, instance_id: uuid.UUID, media_id: uuid.UUID, content: AsyncIterator[bytes]) -> StoredFile:
        """Write ``content`` as it arrives under a new key, holding at most one block in memory."""
        key = f"{instance_id}/{media_id}"
        path = self._path(key)
        digest, size, block, closed = hashlib.sha256(), 0, bytearray(), False

        def open_temporary() -> tuple[int, str]:
            path.parent.mkdir(parents=True, exist_ok=True)
            return tempfile.mkstemp(dir=path.parent, prefix=".upload-")

        def write(data: bytearray) -> None:
            view = memoryview(data)
            while view:
                view = view[os.write(fd, view) :]
            digest.update(data)

        def finish() -> None:
            nonlocal closed
            try:
                os.fsync(fd)
            finally:
                closed = True
                os.close(fd)
            os.replace(temporary, path)

        fd, temporary = await _on_disk(open_temporary)
        try:
            async for chunk in content:
                size += len(chunk)
                block += chunk
                if len(block) >= CHUNK:
                    await _on_disk(write, block)
                    block.clear()
            if block:
                await _on_disk(write, block)
            await _on_disk(finish)
        except BaseException:
            if not closed:
                with contextlib.suppress(OSError):
                    os.close(fd)
            with contextlib.suppress(OSError):
                os.unlink(temporary)
            raise
        return StoredFile(key, size, digest.hexdigest())

    async def read(self, key: str) -> AsyncIterator[bytes]:
        async with await anyio.open_file(self._path(key), "rb") as handle:
            while chunk := await handle.read(CHUNK):
                yield chunk

    async def delete(self, key: str) -> None:
        await _on_disk(self._path(key).unlink, missing_ok=True)

    async def set_aside(self, key: str) -> str | None:
        """Move the file to a hidden name beside it, from where ``restore`` brings it back;
        None when there is no file to move."""
        aside = aside_key(key)

        def move() -> bool:
            try:
                os.replace(self._path(key), self._path(aside))
            except FileNotFoundError:
                return False
            return True

        return aside if await _on_disk(move) else None

    async def restore(self, aside: str, key: str) -> None:
        await _on_disk(os.replace, self._path(aside), self._path(key))

    async def size(self, key: str) -> int | None:
        """The stored size, or None when the bytes are not there."""

        def stat() -> int | None:
            try:
                return self._path(key).stat().st_size
            except FileNotFoundError:
                return None

        return await _on_disk(stat)

    async def files(self, instance_id: uuid.UUID) -> dict[str, FileInfo]:
        """Every stored file of the instance, with its size and age, files set aside by a delete
        included (uploads still being written are not)."""
        folder = self._root / str(instance_id)

        def scan() -> dict[str, FileInfo]:
            if not folder.is_dir():
                return {}
            found = {}
            for entry in folder.iterdir():
                if entry.is_file() and (not entry.name.startswith(".") or entry.name.startswith(ASIDE_PREFIX)):
                    status = entry.stat()
                    found[f"{instance_id}/{entry.name}"] = FileInfo(status.st_size, status.st_mtime)
            return found

        return await to_thread.run_sync(scan)


def aside_key(key: str) -> str:
    """Where a delete moves the file of ``key`` until its record is gone."""
    folder, _, name = key.rpartition("/")
    return f"{folder}/{ASIDE_PREFIX}{name}"


async def _on_disk(call: Callable[P, T], *args: P.args, **kwargs: P.kwargs) -> T:
    """Run a blocking file operation in a thread; a failing disk is a 503, logged with its cause."""
    try:
        return await to_thread.run_sync(functools.partial(call, *args, **kwargs))
    except OSError as exc:
        logger.error("media storage failed", error=type(exc).__name__, errno=exc.errno)
        raise StorageUnavailableError from exc
