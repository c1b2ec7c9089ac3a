"""The tenant template database: a migrated tenant schema that new tenants are cloned from.

Its objects belong to a NOLOGIN role; after a clone, ``REASSIGN OWNED`` hands them to the new
tenant's role, so each tenant owns its whole schema (and can later be migrated as itself).
The template is named after the tenant head revision, built under a temporary name, published by
rename, and marked ``ALLOW_CONNECTIONS false`` so no session can block ``CREATE DATABASE ...
TEMPLATE`` (which fails when anyone is connected to the template).
"""

from __future__ import annotations

import contextlib
import re
import uuid
import zlib

import asyncpg

from kitehub.logs import get_logger
from kitehub.migrate import head_revision, script_directory
from kitehub.pg_admin import create_database, database_exists, drop_database, quote_ident
from kitehub.provisioning.models import DatabaseServer
from kitehub.provisioning.schema import upgrade_as
from kitehub.provisioning.servers import admin_url
from kitehub.provisioning.vault import Vault

TEMPLATE_OWNER_ROLE = "kitehub_tenant_template"
TEMPLATE_PREFIX = "kitehub_tenant_template_"
BUILD_PREFIX = "kitehub_tenant_build_"
BUILD_LOCK_KEY = zlib.crc32(b"kitehub:tenant-template-build")

logger = get_logger(__name__)


def template_name(revision: str) -> str:
    return (TEMPLATE_PREFIX + re.sub(r"[^a-z0-9]", "_", revision.lower()))[:63]


async def ensure_template(conn: asyncpg.Connection, server: DatabaseServer, vault: Vault) -> str:
    """The name of ``server``'s template at the current tenant head, built when missing.

    ``conn`` is an admin connection to the server's maintenance database (the caller's own, so
    the common case costs one query).
    """
    head = head_revision("tenant")
    if head is None:
        raise RuntimeError("the tenant migration tree has no revision")
    name = template_name(head)
    if await database_exists(conn, name):
        return name
    await conn.execute("SELECT pg_advisory_lock($1)", BUILD_LOCK_KEY)  # one builder per server
    try:
        if not await database_exists(conn, name):
            await _build(conn, server, vault, name)
        await _drop_outdated_templates(conn, keep=name)
    finally:
        await conn.execute("SELECT pg_advisory_unlock($1)", BUILD_LOCK_KEY)
    return name


async def _build(conn: asyncpg.Connection, server: DatabaseServer, vault: Vault, name: str) -> None:
    for leftover in await conn.fetch("SELECT datname FROM pg_database WHERE datname LIKE $1", BUILD_PREFIX + "%"):
        await drop_database(conn, leftover["datname"])  # left by a crashed build (we hold the build lock)
    if not await conn.fetchval("SELECT 1 FROM pg_roles WHERE rolname = $1", TEMPLATE_OWNER_ROLE):
        # Another builder may create it first: roles are shared by all databases of a cluster.
        with contextlib.suppress(asyncpg.DuplicateObjectError):
            await conn.execute(f"CREATE ROLE {quote_ident(TEMPLATE_OWNER_ROLE)} NOLOGIN")
    build = f"{BUILD_PREFIX}{uuid.uuid4().hex[:12]}"
    await create_database(conn, build)
    try:
        await upgrade_as(admin_url(server, vault, build), TEMPLATE_OWNER_ROLE, own_schema=True)
        await conn.execute(f"ALTER DATABASE {quote_ident(build)} RENAME TO {quote_ident(name)}")
    except BaseException:
        await drop_database(conn, build)
        raise
    await conn.execute(f"ALTER DATABASE {quote_ident(name)} WITH IS_TEMPLATE true ALLOW_CONNECTIONS false")
    logger.info("tenant template built", template=name, server=server.name)


async def _drop_outdated_templates(conn: asyncpg.Connection, *, keep: str) -> None:
    """Drop templates of revisions older than head; a newer one (another release, mid-deploy) stays."""
    head = head_revision("tenant")
    older = {template_name(script.revision) for script in script_directory("tenant").iterate_revisions(head, "base")}
    older.discard(keep)
    rows = await conn.fetch("SELECT datname FROM pg_database WHERE datname = ANY($1::text[])", sorted(older))
    for row in rows:
        await conn.execute(f"ALTER DATABASE {quote_ident(row['datname'])} WITH IS_TEMPLATE false")
        await drop_database(conn, row["datname"])
