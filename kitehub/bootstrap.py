"""Finding the platform database: the configured server, or the embedded one started on demand."""

from __future__ import annotations

import asyncpg
from sqlalchemy.engine import URL

from kitehub.db import libpq_dsn, normalise_url
from kitehub.embedded_pg import start_embedded_server
from kitehub.pg_admin import create_database_if_missing
from kitehub.settings import Settings

PLATFORM_DATABASE = "kitehub"


async def ensure_database(url: URL) -> None:
    """Create ``url``'s database when it does not exist yet (used for the embedded server)."""
    conn = await asyncpg.connect(dsn=libpq_dsn(url.set(database="postgres")))
    try:
        assert url.database is not None
        await create_database_if_missing(conn, url.database)
    finally:
        await conn.close()


async def resolve_platform_url(settings: Settings, *, stop_embedded_with_process: bool = False) -> URL:
    """The platform database URL: the configured one, or the embedded server's (started if needed)."""
    if settings.database_url is not None:
        return normalise_url(settings.database_url.get_secret_value())
    import anyio.to_thread

    server = await anyio.to_thread.run_sync(
        lambda: start_embedded_server(settings.data_dir, stop_with_process=stop_embedded_with_process)
    )
    url = server.url(PLATFORM_DATABASE)
    await ensure_database(url)
    return url
