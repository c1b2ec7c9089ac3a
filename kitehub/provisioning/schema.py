"""Migrating a tenant database as the role that must own its objects, written once."""

from __future__ import annotations

from sqlalchemy import text
from sqlalchemy.engine import URL
from sqlalchemy.ext.asyncio import create_async_engine
from sqlalchemy.pool import NullPool

from kitehub.migrate import upgrade
from kitehub.pg_admin import quote_ident


async def upgrade_as(admin_database_url: URL, role: str, *, own_schema: bool = False) -> None:
    """Run the tenant migrations in ``admin_database_url``'s database under ``SET ROLE role``,
    so every object created belongs to ``role`` (``own_schema``: the public schema too)."""
    engine = create_async_engine(admin_database_url, poolclass=NullPool)
    try:
        async with engine.begin() as connection:
            if own_schema:
                await connection.execute(text(f"ALTER SCHEMA public OWNER TO {quote_ident(role)}"))
            await connection.execute(text(f"SET ROLE {quote_ident(role)}"))
            await upgrade(connection, "tenant", "head")
    finally:
        await engine.dispose()
