"""Media within the storage quota: taken atomically, freed on delete, reconciled from the files."""

from __future__ import annotations

import asyncio
import os
import time
from pathlib import Path
from typing import Any

from sqlalchemy.engine import URL
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from kitehub.provisioning.vault import Vault
from kitehub.settings import Settings
from kitehub.tenant.media.reconcile import reconcile
from kitehub.tenant.media.storage import LocalStorage
from tests.conftest import TenantFactory
from tests.platform.billing.support import execute, fetch
from tests.tenant.support import School, schools

MIB = 1024 * 1024


async def _upload(school: School, name: str, content: bytes, content_type: str = "application/pdf") -> Any:
    return await school.call("POST", "/media", files={"file": (name, content, content_type)})


async def test_a_tier_without_media_refuses_its_routes(make_tenant: TenantFactory, settings: Settings) -> None:
    async with schools(settings, await make_tenant(tier="BASIC")) as [school]:
        upload = await school.call("POST", "/media", files={"file": ("a.txt", b"hi", "text/plain")})
        listing = await school.call("GET", "/media")
    assert (upload.status_code, listing.status_code) == (403, 403)
    assert upload.json()["feature"] == "media"
    assert "media" in upload.json()["detail"]


async def test_fifty_concurrent_uploads_fill_a_twenty_mib_quota_exactly(
    make_tenant: TenantFactory, settings: Settings, platform_url: URL
) -> None:
    # an upload in flight holds its whole declared body (the file plus ~200 bytes of multipart framing)
    limit = 20 * MIB + 10 * 1024
    await execute(platform_url, "UPDATE tiers SET storage_limit_bytes = $1 WHERE code = 'STANDARD'", limit)
    tenant = await make_tenant(tier="STANDARD")
    async with schools(settings, tenant) as [school]:
        answers = await asyncio.gather(*(_upload(school, f"bai-{n}.pdf", bytes([n]) * MIB) for n in range(50)))
        stored = [answer for answer in answers if answer.status_code == 201]
        refused = [answer for answer in answers if answer.status_code == 413]
        usage = (await school.client.get(f"/api/v1/instances/{tenant.id}/storage", headers=school.owner)).json()

        assert (len(stored), len(refused)) == (20, 30)
        assert refused[0].json()["limit_bytes"] == limit
        assert refused[0].headers["content-type"].startswith("application/problem+json")
        assert usage == {"used_bytes": 20 * MIB, "limit_bytes": limit, "files": 20}
        events = await fetch(platform_url, "SELECT kind, count(*) AS n, sum(bytes_delta) AS bytes FROM storage_events"
                             " WHERE instance_id = $1 GROUP BY kind ORDER BY kind", tenant.id)  # fmt: skip
        assert [(e["kind"], e["n"]) for e in events] == [("RELEASE", 20), ("UPLOAD", 20)]  # declared, then the rest
        assert sum(e["bytes"] for e in events) == 20 * MIB

        first = stored[0].json()
        deleted = await school.call("DELETE", f"/media/{first['id']}")
        after = (await school.client.get(f"/api/v1/instances/{tenant.id}/storage", headers=school.owner)).json()
        fits_again = await _upload(school, "moi.pdf", b"x" * MIB)

    assert deleted.status_code == 204
    assert (after["used_bytes"], after["files"]) == (19 * MIB, 19)
    assert not (Path(settings.data_dir) / "media" / str(tenant.id) / first["id"]).exists()
    assert fits_again.status_code == 201


async def test_files_come_back_as_stored_and_only_to_their_school(
    make_tenant: TenantFactory, settings: Settings
) -> None:
    async with schools(settings, await make_tenant(tier="STANDARD"), await make_tenant(tier="STANDARD")) as [a, b]:
        created = (await _upload(a, "Thời khoá biểu.pdf", b"%PDF-1.7 lich hoc")).json()
        download = await a.call("GET", f"/media/{created['id']}")
        from_b = await b.call("GET", f"/media/{created['id']}")
        teacher = await a.staff("teacher", "gv@truong.vn")
        by_teacher = await a.call("POST", "/media", headers=teacher, files={"file": ("x.txt", b"x", "text/plain")})
        listed = (await a.call("GET", "/media", headers=teacher)).json()
        no_file = await a.call("POST", "/media", data={"other": "field"})
        (Path(settings.data_dir) / "media" / str(a.tenant.id) / created["id"]).unlink()
        bytes_gone = await a.call("GET", f"/media/{created['id']}")

    assert download.status_code == 200
    assert download.content == b"%PDF-1.7 lich hoc"
    assert download.headers["content-type"].startswith("application/pdf")
    assert "attachment" in download.headers["content-disposition"]
    assert created["filename"] == "Thời khoá biểu.pdf"
    assert from_b.status_code == 404
    assert by_teacher.status_code == 403
    assert listed["total"] == 1
    assert no_file.status_code in (400, 422)
    assert bytes_gone.status_code == 404


async def test_reconcile_finds_and_fixes_what_drifted(
    make_tenant: TenantFactory,
    settings: Settings,
    platform_url: URL,
    platform_sessions: async_sessionmaker[AsyncSession],
    vault: Vault,
) -> None:
    tenant = await make_tenant(tier="STANDARD")
    async with schools(settings, tenant) as [school]:
        kept = (await _upload(school, "a.bin", b"a" * 1000)).json()
        lost = (await _upload(school, "b.bin", b"b" * 500)).json()
    media_root = Path(settings.data_dir) / "media"
    (media_root / str(tenant.id) / lost["id"]).unlink()  # a file lost on disk
    stray = media_root / str(tenant.id) / "stray"
    stray.write_bytes(b"s" * 42)  # a file nobody recorded, an hour ago
    os.utime(stray, (time.time() - 3600, time.time() - 3600))
    (media_root / str(tenant.id) / "uploading").write_bytes(b"u" * 5)  # just written: maybe an upload in flight
    await execute(platform_url, "UPDATE storage_usage SET used_bytes = used_bytes + 7 WHERE instance_id = $1",
                  tenant.id)  # fmt: skip
    storage = LocalStorage(media_root)

    [report] = await reconcile(platform_sessions, vault, storage, fix=False)
    assert (report.counted_bytes, report.stored_bytes) == (1507, 1000)
    assert report.stray_files == [f"{tenant.id}/stray"]
    assert [str(media_id) for media_id in report.missing_files] == [lost["id"]]

    await reconcile(platform_sessions, vault, storage, fix=True)
    [again] = await reconcile(platform_sessions, vault, storage, fix=False)
    assert again.consistent
    assert (media_root / str(tenant.id) / "uploading").exists()  # left alone
    assert again.counted_bytes == 1000
    assert kept["size_bytes"] == 1000
    adjust = await fetch(platform_url, "SELECT bytes_delta FROM storage_events WHERE kind = 'ADJUST'")
    assert [row["bytes_delta"] for row in adjust] == [-507]


async def test_reconcile_finishes_or_undoes_interrupted_deletes(
    make_tenant: TenantFactory,
    settings: Settings,
    platform_sessions: async_sessionmaker[AsyncSession],
    vault: Vault,
) -> None:
    tenant = await make_tenant(tier="STANDARD")
    media_root = Path(settings.data_dir) / "media"
    storage = LocalStorage(media_root)
    async with schools(settings, tenant) as [school]:
        kept = (await _upload(school, "kept.bin", b"k" * 300)).json()
        gone = (await _upload(school, "gone.bin", b"g" * 200)).json()
        assert (await school.call("DELETE", f"/media/{gone['id']}")).status_code == 204
        # crashes: one delete stopped after moving its file aside, one after committing its record
        await storage.set_aside(f"{tenant.id}/{kept['id']}")
        leftover = media_root / str(tenant.id) / f".deleting-{gone['id']}"
        leftover.write_bytes(b"g" * 200)
        os.utime(leftover, (time.time() - 3600, time.time() - 3600))

        [before] = await reconcile(platform_sessions, vault, storage, fix=False)
        await reconcile(platform_sessions, vault, storage, fix=True)
        [after] = await reconcile(platform_sessions, vault, storage, fix=False)
        download = await school.call("GET", f"/media/{kept['id']}")

    assert [str(media_id) for media_id in before.missing_files] == [kept["id"]]
    assert after.consistent
    assert after.counted_bytes == 300
    assert download.content == b"k" * 300
    assert sorted(path.name for path in (media_root / str(tenant.id)).iterdir()) == [kept["id"]]
