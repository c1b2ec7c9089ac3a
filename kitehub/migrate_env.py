"""What both alembic ``env.py`` files do, written once.

Inside KiteHub the caller passes an open connection (``Config.attributes["connection"]``).
From the plain ``alembic`` command line (to write a revision with ``--autogenerate``), the
platform tree finds its database through the settings; the tenant tree needs ``-x url=...``.
"""

from __future__ import annotations

import asyncio

from alembic import context
from sqlalchemy import Connection, MetaData
from sqlalchemy.engine import URL
from sqlalchemy.ext.asyncio import create_async_engine

from kitehub.bootstrap import resolve_platform_url
from kitehub.db import normalise_url
from kitehub.settings import get_settings


def _configure_and_run(connection: Connection, target_metadata: MetaData) -> None:
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        compare_type=True,
        compare_server_default=True,
    )
    with context.begin_transaction():
        context.run_migrations()


async def _url_for_command_line(tree: str) -> URL:
    explicit = context.get_x_argument(as_dictionary=True).get("url")
    if explicit:
        return normalise_url(explicit)
    if tree == "tenant":
        raise SystemExit("the tenant tree needs a database: alembic -n tenant -x url=postgresql://... <command>")
    return await resolve_platform_url(get_settings())


async def _run_with_own_engine(tree: str, target_metadata: MetaData) -> None:
    engine = create_async_engine(await _url_for_command_line(tree))
    try:
        async with engine.begin() as conn:
            await conn.run_sync(_configure_and_run, target_metadata)
    finally:
        await engine.dispose()


def run_migrations(tree: str, target_metadata: MetaData) -> None:
    if context.is_offline_mode():
        raise SystemExit("offline (--sql) mode is not supported: KiteHub migrates live databases")
    connection = context.config.attributes.get("connection")
    if connection is None:
        asyncio.run(_run_with_own_engine(tree, target_metadata))
    else:
        _configure_and_run(connection, target_metadata)
