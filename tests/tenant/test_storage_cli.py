"""``kitehub storage reconcile`` as an operator runs it."""

from __future__ import annotations

import os
import time
from pathlib import Path

from sqlalchemy.engine import URL

from kitehub.db import libpq_dsn
from tests.cli_support import clean_env, run_kitehub


def test_reconcile_reports_then_fixes_a_stray_file(tmp_path: Path, platform_url: URL, server_url: URL) -> None:
    env = clean_env(KITEHUB_DATABASE_URL=libpq_dsn(platform_url), KITEHUB_DATA_DIR=str(tmp_path))
    provisioned = run_kitehub("tenants", "provision", "cli-media", "--owner", "head@cli.example", env=env)
    try:
        assert provisioned.returncode == 0, provisioned.stderr
        instance_id = next(line.split()[-1] for line in run_kitehub("tenants", "list", env=env).stdout.splitlines()
                           if line.startswith("cli-media"))  # fmt: skip
        assert "cli-media: ok (0 bytes)" in run_kitehub("storage", "reconcile", env=env).stdout
        folder = tmp_path / "media" / instance_id
        folder.mkdir(parents=True)
        (folder / "left-behind").write_bytes(b"x" * 10)
        os.utime(folder / "left-behind", (time.time() - 3600, time.time() - 3600))

        report = run_kitehub("storage", "reconcile", env=env)
        fixed = run_kitehub("storage", "reconcile", "--fix", env=env)
        again = run_kitehub("storage", "reconcile", env=env)
    finally:
        run_kitehub("tenants", "deprovision", "cli-media", "--yes", env=env)
    assert "1 stray file(s)" in report.stdout
    assert "fixed" in fixed.stdout
    assert not (folder / "left-behind").exists()
    assert "cli-media: ok (0 bytes)" in again.stdout
