"""Uploads stream to disk within a quota taken from their declared size; storage that cannot be
written answers 503 and leaves nothing half done."""

from __future__ import annotations

import asyncio
import hashlib
import shutil
import tracemalloc
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy.engine import URL

from kitehub.settings import Settings
from tests.conftest import TenantFactory
from tests.platform.billing.support import execute, fetch
from tests.tenant.support import School, schools

MIB = 1024 * 1024
PIECE = 64 * 1024  # what a server hands the app at a time


@dataclass
class StreamedUpload:
    """A multipart body made on the fly, counting how much of it the server has pulled."""

    size: int
    declared: int | None = None  # Content-Length to announce; None = the true length, -1 = none
    pulled: int = 0

    def __post_init__(self) -> None:
        self.boundary = uuid.uuid4().hex
        self.head = (f'--{self.boundary}\r\nContent-Disposition: form-data; name="file"; filename="video.mp4"\r\n'
                     "Content-Type: video/mp4\r\n\r\n").encode()  # fmt: skip
        self.tail = f"\r\n--{self.boundary}--\r\n".encode()

    @property
    def headers(self) -> dict[str, str]:
        headers = {"content-type": f"multipart/form-data; boundary={self.boundary}"}
        length = len(self.head) + self.size + len(self.tail) if self.declared is None else self.declared
        if length >= 0:
            headers["content-length"] = str(length)
        return headers

    async def body(self) -> AsyncIterator[bytes]:
        yield self.head
        for start in range(0, self.size, PIECE):
            self.pulled += 1
            yield bytes([start // PIECE % 251]) * min(PIECE, self.size - start)
        yield self.tail

    def sha256(self) -> str:
        digest = hashlib.sha256()
        for start in range(0, self.size, PIECE):
            digest.update(bytes([start // PIECE % 251]) * min(PIECE, self.size - start))
        return digest.hexdigest()


async def _send(school: School, upload: StreamedUpload) -> Any:
    return await school.call("POST", "/media", headers={**school.owner, **upload.headers}, content=upload.body())


async def _usage(school: School) -> dict[str, Any]:
    answer = await school.client.get(f"/api/v1/instances/{school.tenant.id}/storage", headers=school.owner)
    usage: dict[str, Any] = answer.json()
    return usage


async def _limit_storage(platform_url: URL, limit: int) -> None:
    await execute(platform_url, "UPDATE tiers SET storage_limit_bytes = $1 WHERE code = 'STANDARD'", limit)


async def test_three_concurrent_large_uploads_do_not_grow_the_process(
    make_tenant: TenantFactory, settings: Settings, platform_url: URL
) -> None:
    await _limit_storage(platform_url, 500 * MIB)
    async with schools(settings, await make_tenant(tier="STANDARD")) as [school]:
        uploads = [StreamedUpload(24 * MIB) for _ in range(3)]
        tracemalloc.start()
        try:
            answers = await asyncio.gather(*(_send(school, upload) for upload in uploads))
            _, peak = tracemalloc.get_traced_memory()
        finally:
            tracemalloc.stop()
        usage = await _usage(school)

    assert [answer.status_code for answer in answers] == [201, 201, 201], [a.text for a in answers]
    assert peak < 16 * MIB, f"{peak / MIB:.1f} MiB allocated at the peak for 72 MiB uploaded"
    for answer, upload in zip(answers, uploads, strict=True):
        assert (answer.json()["size_bytes"], answer.json()["sha256"]) == (upload.size, upload.sha256())
    assert usage["used_bytes"] == 3 * 24 * MIB  # the declared size was taken, then reconciled to the files


async def test_a_declared_size_over_the_quota_is_refused_before_the_body_is_read(
    make_tenant: TenantFactory, settings: Settings, platform_url: URL
) -> None:
    await _limit_storage(platform_url, 20 * MIB)
    async with schools(settings, await make_tenant(tier="STANDARD")) as [school]:
        upload = StreamedUpload(50 * MIB)
        answer = await _send(school, upload)
        usage = await _usage(school)

    assert answer.status_code == 413, answer.text
    assert answer.json()["limit_bytes"] == 20 * MIB
    assert upload.pulled == 0
    assert usage["used_bytes"] == 0


async def test_a_body_longer_than_declared_is_refused_and_the_quota_released(
    make_tenant: TenantFactory, settings: Settings, platform_url: URL
) -> None:
    await _limit_storage(platform_url, 20 * MIB)
    tenant = await make_tenant(tier="STANDARD")
    async with schools(settings, tenant) as [school]:
        longer = await _send(school, StreamedUpload(4 * MIB, declared=MIB))
        unannounced = await _send(school, StreamedUpload(MIB, declared=-1))
        usage = await _usage(school)
        listed = (await school.call("GET", "/media")).json()

    assert longer.status_code == 400, longer.text
    assert longer.headers["content-type"].startswith("application/problem+json")
    assert unannounced.status_code == 411, unannounced.text
    assert (usage["used_bytes"], listed["total"]) == (0, 0)
    folder = Path(settings.data_dir) / "media" / str(tenant.id)
    assert not folder.exists() or list(folder.iterdir()) == []
    events = await fetch(platform_url, "SELECT sum(bytes_delta) AS bytes FROM storage_events WHERE instance_id = $1",
                         tenant.id)  # fmt: skip
    assert events[0]["bytes"] in (0, None)


async def test_unwritable_storage_answers_503_and_keeps_nothing(
    make_tenant: TenantFactory, settings: Settings, platform_url: URL
) -> None:
    """A file where the school's media folder should be: no write succeeds there, even as root."""
    await _limit_storage(platform_url, 20 * MIB)
    tenant = await make_tenant(tier="STANDARD")
    folder = Path(settings.data_dir) / "media" / str(tenant.id)
    folder.parent.mkdir(parents=True, exist_ok=True)
    folder.write_bytes(b"not a folder")
    async with schools(settings, tenant) as [school]:
        answer = await school.call("POST", "/media", files={"file": ("a.pdf", b"%PDF" * 1000, "application/pdf")})
        usage = await _usage(school)
        listed = (await school.call("GET", "/media")).json()

    assert answer.status_code == 503, answer.text
    assert answer.headers["content-type"].startswith("application/problem+json")
    assert int(answer.headers["retry-after"]) > 0
    assert str(folder.parent) not in answer.text  # no internal path in the answer
    assert (usage["used_bytes"], listed["total"]) == (0, 0)


async def test_a_delete_removes_row_and_file_together_or_neither(
    make_tenant: TenantFactory, settings: Settings, platform_url: URL
) -> None:
    await _limit_storage(platform_url, 20 * MIB)
    tenant = await make_tenant(tier="STANDARD")
    folder = Path(settings.data_dir) / "media" / str(tenant.id)
    async with schools(settings, tenant) as [school]:
        created = await school.call("POST", "/media", files={"file": ("a.pdf", b"x" * 5000, "application/pdf")})
        media_id = created.json()["id"]
        shutil.move(folder, folder.with_name("kept-away"))  # the storage breaks: a file where the folder was
        folder.write_bytes(b"not a folder")
        refused = await school.call("DELETE", f"/media/{media_id}")
        still_listed = (await school.call("GET", "/media")).json()["total"]
        still_counted = (await _usage(school))["used_bytes"]

        folder.unlink()  # the storage is back
        shutil.move(folder.with_name("kept-away"), folder)
        download = await school.call("GET", f"/media/{media_id}")
        deleted = await school.call("DELETE", f"/media/{media_id}")
        listed_after = (await school.call("GET", "/media")).json()["total"]
        usage_after = (await _usage(school))["used_bytes"]

    assert refused.status_code == 503, refused.text
    assert "retry-after" in refused.headers
    assert (still_listed, still_counted) == (1, 5000)
    assert download.content == b"x" * 5000  # the bytes are where they were
    assert deleted.status_code == 204
    assert (listed_after, usage_after) == (0, 0)
    assert list(folder.iterdir()) == []  # no file, hidden or not, is left behind
