"""PostgreSQL servers that hold tenant databases: registration, placement, admin connections."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass

import asyncpg
from sqlalchemy import func, select
from sqlalchemy.engine import URL
from sqlalchemy.ext.asyncio import AsyncSession

from kitehub.db import libpq_dsn, normalise_url, safe_url
from kitehub.errors import ConflictError, NotFoundError
from kitehub.pg_admin import quote_ident
from kitehub.platform.instances.models import Instance, InstanceStatus
from kitehub.provisioning.models import DatabaseServer, DatabaseServerStatus
from kitehub.provisioning.vault import SecretLocation, Vault, VaultError

DEFAULT_SERVER_NAME = "default"
ADMIN_PASSWORD_PURPOSE = "database_server.admin_password"  # noqa: S105 - a label
# Instances whose database exists, or is about to: they occupy a slot on their server.
_OCCUPYING = (InstanceStatus.PROVISIONING, InstanceStatus.READY, InstanceStatus.FAILED, InstanceStatus.SUSPENDED)


class NoCapacityError(ConflictError):
    slug, title = "no-database-capacity", "No database server has room"


def admin_password_location(server_id: uuid.UUID) -> SecretLocation:
    return SecretLocation(ADMIN_PASSWORD_PURPOSE, str(server_id))


def server_url(host: str, port: int, *, username: str, password: str | None, database: str) -> URL:
    """asyncpg URL for a database server; a host starting with '/' is a Unix socket directory."""
    if host.startswith("/"):
        return URL.create(
            "postgresql+asyncpg",
            username=username,
            password=password,
            database=database,
            query={"host": host, "port": str(port)},
        )
    return URL.create(
        "postgresql+asyncpg", username=username, password=password, host=host, port=port, database=database
    )


def admin_url(server: DatabaseServer, vault: Vault, database: str | None = None) -> URL:
    password = None
    if server.admin_password_encrypted is not None:
        password = vault.decrypt(server.admin_password_encrypted, admin_password_location(server.id))
    return server_url(
        server.host,
        server.port,
        username=server.admin_username,
        password=password,
        database=database or server.maintenance_database,
    )


@asynccontextmanager
async def admin_connection(
    server: DatabaseServer, vault: Vault, database: str | None = None
) -> AsyncIterator[asyncpg.Connection]:
    """A plain asyncpg connection as the server's admin: DDL that must run outside a transaction."""
    conn = await asyncpg.connect(dsn=libpq_dsn(admin_url(server, vault, database)))
    try:
        yield conn
    finally:
        await conn.close()


def _connection_parts(url: URL) -> tuple[str, int, str, str | None, str]:
    host = url.query.get("host") if url.host is None else url.host
    if not isinstance(host, str) or not host:
        raise ValueError("the database URL names no host")
    port_value = url.port or url.query.get("port") or 5432
    return host, int(str(port_value)), url.username or "postgres", url.password, url.database or "postgres"


async def register_server(
    session: AsyncSession, vault: Vault, *, name: str, url: URL | str, max_tenants: int = 500, update: bool = False
) -> DatabaseServer:
    """Add a server (or, with ``update``, refresh an existing one's connection info)."""
    host, port, username, password, _ = _connection_parts(normalise_url(url))
    server = await session.scalar(
        select(DatabaseServer).where(DatabaseServer.name == name, DatabaseServer.deleted_at.is_(None))
    )
    if server is not None and not update:
        raise ConflictError(f"a database server named {name!r} exists already")
    if server is None:
        server = DatabaseServer(id=uuid.uuid4(), name=name, max_tenants=max_tenants)
        session.add(server)
    server.host, server.port, server.admin_username = host, port, username
    server.maintenance_database = "postgres"
    if password is None:
        server.admin_password_encrypted = None
    elif _stored_password(server, vault) != password:  # unchanged: keep the ciphertext, no write
        server.admin_password_encrypted = vault.encrypt(password, admin_password_location(server.id))
    await session.flush()
    return server


def _stored_password(server: DatabaseServer, vault: Vault) -> str | None:
    if server.admin_password_encrypted is None:
        return None
    try:
        return vault.decrypt(server.admin_password_encrypted, admin_password_location(server.id))
    except VaultError:
        return None  # unreadable (key removed): it is about to be replaced anyway


async def register_default_server(session: AsyncSession, vault: Vault, url: URL) -> DatabaseServer:
    """The server KiteHub runs on holds tenants too, unless an admin drains it."""
    return await register_server(session, vault, name=DEFAULT_SERVER_NAME, url=url, update=True)


@dataclass(frozen=True, slots=True)
class ServerUsage:
    server: DatabaseServer
    tenants: int

    @property
    def free(self) -> int:
        return self.server.max_tenants - self.tenants


async def list_servers(session: AsyncSession) -> list[ServerUsage]:
    tenants = (
        select(Instance.database_server_id, func.count().label("tenants"))
        .where(Instance.status.in_(_OCCUPYING))
        .group_by(Instance.database_server_id)
        .subquery()
    )
    rows = await session.execute(
        select(DatabaseServer, func.coalesce(tenants.c.tenants, 0))
        .outerjoin(tenants, tenants.c.database_server_id == DatabaseServer.id)
        .where(DatabaseServer.deleted_at.is_(None))
        .order_by(DatabaseServer.name)
    )
    return [ServerUsage(server, int(count)) for server, count in rows.all()]


async def get_server_by_name(session: AsyncSession, name: str) -> DatabaseServer:
    server = await session.scalar(
        select(DatabaseServer).where(DatabaseServer.name == name, DatabaseServer.deleted_at.is_(None))
    )
    if server is None:
        raise NotFoundError(f"no database server named {name!r}")
    return server


async def drain_server(session: AsyncSession, name: str) -> DatabaseServer:
    """A draining server keeps its tenants but receives no new ones."""
    server = await get_server_by_name(session, name)
    server.status = DatabaseServerStatus.DRAINING
    await session.flush()
    return server


async def choose_server(session: AsyncSession) -> DatabaseServer:
    """Placement: the active server with the most free capacity.

    The active servers' rows are locked for the rest of the caller's transaction, so two
    concurrent placements count each other's tenants instead of both taking the last slot.
    """
    await session.execute(
        select(DatabaseServer.id)
        .where(DatabaseServer.status == DatabaseServerStatus.ACTIVE, DatabaseServer.deleted_at.is_(None))
        .order_by(DatabaseServer.id)
        .with_for_update()
    )
    candidates = [
        usage
        for usage in await list_servers(session)
        if usage.server.status is DatabaseServerStatus.ACTIVE and usage.free > 0
    ]
    if not candidates:
        raise NoCapacityError("every active database server is full or draining; add one with `kitehub servers add`")
    return max(candidates, key=lambda usage: (usage.free, usage.server.name)).server


async def verify_server(url: URL | str) -> None:
    """Refuse a server KiteHub could not create tenants on, before registering it."""
    target = normalise_url(url)
    try:
        conn = await asyncpg.connect(dsn=libpq_dsn(target))
    except (OSError, asyncpg.PostgresError) as exc:
        raise ConflictError(f"cannot connect to {safe_url(target)}: {type(exc).__name__}") from exc
    try:
        allowed = await conn.fetchval(
            "SELECT rolsuper OR (rolcreatedb AND rolcreaterole) FROM pg_roles WHERE rolname = current_user"
        )
    finally:
        await conn.close()
    if not allowed:
        raise ConflictError(f"the user of {safe_url(target)} needs SUPERUSER, or CREATEDB and CREATEROLE")


async def harden_server(server: DatabaseServer, vault: Vault, *, also: tuple[str, ...] = ()) -> None:
    """Take PUBLIC's CONNECT away from the databases tenant roles have no business in.

    PostgreSQL grants CONNECT on every new database to PUBLIC, so a tenant role could otherwise
    open sessions in ``postgres``, ``template1`` and (on the platform's own server) the platform
    database. Revoking what one does not own is a no-op with a warning, not an error.
    """
    async with admin_connection(server, vault) as admin:
        names = [row["datname"] for row in await admin.fetch(
            "SELECT datname FROM pg_database WHERE datname = ANY($1::text[])", ["postgres", "template1", *also]
        )]  # fmt: skip
        for name in names:
            await admin.execute(f"REVOKE CONNECT, TEMPORARY ON DATABASE {quote_ident(name)} FROM PUBLIC")
