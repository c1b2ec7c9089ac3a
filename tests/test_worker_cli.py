"""``kitehub worker``: a separate process that works the queue, and stops cleanly."""

from __future__ import annotations

import asyncio
import signal
import time
from pathlib import Path

from sqlalchemy.engine import URL
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from kitehub.db import libpq_dsn
from kitehub.platform.audit.services import SYSTEM
from kitehub.platform.instances.services import request_instance
from kitehub.settings import Settings
from tests.cli_support import KITEHUB, clean_env
from tests.conftest import TenantFactory
from tests.support import connect


async def test_a_worker_process_provisions_queued_instances(
    tmp_path: Path,
    platform_url: URL,
    platform_sessions: async_sessionmaker[AsyncSession],
    make_tenant: TenantFactory,
    settings: Settings,
) -> None:
    owner = (await make_tenant(provision=False)).owner_id  # make_tenant also drops what it leaves behind
    async with platform_sessions() as session, session.begin():
        queued = await request_instance(
            session, SYSTEM, owner_id=owner, subdomain="from-the-queue", organization_name="Q", tier_code="BASIC",
            trial_days=14, max_instances=0,
        )  # fmt: skip
    assert settings.encryption_keys is not None
    env = clean_env(
        KITEHUB_DATABASE_URL=libpq_dsn(platform_url),
        KITEHUB_DATA_DIR=str(tmp_path),
        KITEHUB_ENCRYPTION_KEYS=settings.encryption_keys.get_secret_value(),
    )
    worker = await asyncio.create_subprocess_exec(
        str(KITEHUB), "worker", env=env, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT
    )
    try:
        status = None
        deadline = time.monotonic() + 60
        while status != "READY" and time.monotonic() < deadline:
            async with connect(platform_url) as conn:
                status = await conn.fetchval("SELECT status FROM instances WHERE id = $1", queued.id)
            await asyncio.sleep(0.2)
        assert status == "READY"
    finally:
        worker.send_signal(signal.SIGTERM)
        output = (await asyncio.wait_for(worker.communicate(), timeout=30))[0].decode()
        async with connect(platform_url.set(database="postgres")) as admin:
            name = f"kh_tenant_{queued.id.hex}"
            await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            await admin.execute(f'DROP ROLE IF EXISTS "{name}"')
    assert worker.returncode == 0, output
