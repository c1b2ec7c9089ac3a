"""Run the two alembic trees (platform and tenant) from async code.

Follows alembic's cookbook recipe for async applications: the caller owns an ``AsyncConnection``,
hands its synchronous face to alembic through ``Config.attributes["connection"]`` and ``env.py``
uses it instead of building an engine. The same functions serve the CLI, ``serve`` on start, the
tests and (later) the fleet runner for tenant databases.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import os
import weakref
from collections.abc import Iterator
from pathlib import Path
from typing import Literal

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Connection, text
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

Tree = Literal["platform", "tenant"]

MIGRATIONS_DIR = Path(__file__).resolve().parent.parent / "migrations"
MIGRATION_LOCK_KEYS: dict[Tree, int] = {"platform": 0x6B68_0001, "tenant": 0x6B68_0002}

# The oldest tenant schema this code can serve. Raise it only after every tenant has passed it
# (`kitehub migrate status`); tenants still below it are answered 503 until migrated.
OLDEST_SUPPORTED_TENANT_REVISION = (
    "t0003_tokens_audit"  # staff log-in needs login_attempts (t0002), tokens their generation (t0003)
)


_extra_locations: dict[Tree, tuple[str, ...]] = {"platform": (), "tenant": ()}


def alembic_config(tree: Tree) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR / tree))
    locations = (str(MIGRATIONS_DIR / tree / "versions"), *_extra_locations[tree])
    config.set_main_option("path_separator", "os")
    config.set_main_option("version_locations", os.pathsep.join(locations))
    config.attributes["kitehub_tree"] = tree
    return config


@contextlib.contextmanager
def extra_version_locations(tree: Tree, *paths: Path) -> Iterator[None]:
    """Add revision folders to ``tree`` for a while (tests ship revisions the product does not)."""
    previous = _extra_locations[tree]
    _extra_locations[tree] = (*previous, *(str(path) for path in paths))
    script_directory.cache_clear()
    _has_ancestor.cache_clear()
    try:
        yield
    finally:
        _extra_locations[tree] = previous
        script_directory.cache_clear()
        _has_ancestor.cache_clear()


@functools.cache
def script_directory(tree: Tree) -> ScriptDirectory:
    """Parsed once per process: reading the revision files is file work (readiness probes ask often)."""
    return ScriptDirectory.from_config(alembic_config(tree))


def head_revision(tree: Tree) -> str | None:
    """The single head of ``tree`` (None while the tree has no revision)."""
    return script_directory(tree).get_current_head()


def _run(
    connection: Connection,
    tree: Tree,
    action: Literal["upgrade", "downgrade"],
    revision: str,
) -> None:
    config = alembic_config(tree)
    config.attributes["connection"] = connection
    if action == "upgrade":
        command.upgrade(config, revision)
    else:
        command.downgrade(config, revision)


async def upgrade(connection: AsyncConnection, tree: Tree, revision: str = "head") -> None:
    async with _alembic_lock():
        await connection.run_sync(_run, tree, "upgrade", revision)


async def downgrade(connection: AsyncConnection, tree: Tree, revision: str) -> None:
    async with _alembic_lock():
        await connection.run_sync(_run, tree, "downgrade", revision)


_locks: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, asyncio.Lock] = weakref.WeakKeyDictionary()


def _alembic_lock() -> asyncio.Lock:
    """One alembic run at a time per process.

    alembic's ``context`` and ``op`` are process-global proxies: two migrations interleaving on
    one event loop (each awaiting its database inside ``run_sync``) would run each other's
    operations. Parallel migration across tenants needs processes, not coroutines.
    """
    loop = asyncio.get_running_loop()
    lock = _locks.get(loop)
    if lock is None:
        lock = _locks[loop] = asyncio.Lock()
    return lock


async def migrate_to(engine: AsyncEngine, tree: Tree, revision: str = "head") -> tuple[str | None, str | None]:
    """Upgrade or downgrade ``engine``'s database to ``revision``; return (before, after)."""
    async with engine.begin() as conn:
        # Several processes may migrate one database at once (API processes starting together):
        # the first takes this lock, the others wait and then find nothing left to do.
        await conn.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": MIGRATION_LOCK_KEYS[tree]})
        return await migrate_connection(conn, tree, revision)


async def migrate_connection(
    conn: AsyncConnection, tree: Tree, revision: str = "head"
) -> tuple[str | None, str | None]:
    """Move the database of ``conn`` to ``revision`` inside the caller's transaction.

    Alembic picks the direction from the revision graph only for upgrades, so an older target
    is detected here and run as a downgrade. A database already there costs one query.
    """
    before = await current_revision(conn)
    target = resolve_revision(tree, revision)
    if before == target:
        return before, before
    if before is not None and _is_ancestor(tree, target, before):
        await downgrade(conn, tree, target or "base")
    else:
        await upgrade(conn, tree, revision)
    return before, await current_revision(conn)


def resolve_revision(tree: Tree, revision: str) -> str | None:
    """Full revision id for ``revision`` (``head``, ``base``, or a unique prefix)."""
    if revision == "base":
        return None
    script = script_directory(tree).get_revision(revision)
    if script is None:
        return None
    return script.revision


def _is_ancestor(tree: Tree, maybe_ancestor: str | None, revision: str) -> bool:
    if maybe_ancestor is None:
        return True
    scripts = script_directory(tree)
    return any(rev.revision == maybe_ancestor for rev in scripts.iterate_revisions(revision, "base"))


async def current_revision(connection: AsyncConnection) -> str | None:
    """The revision stamped in the connected database (None for an unmigrated one)."""

    def _current(sync_conn: Connection) -> str | None:
        return MigrationContext.configure(sync_conn).get_current_revision()

    return await connection.run_sync(_current)


def tenant_revision_supported(revision: str | None) -> bool:
    """Whether a tenant at ``revision`` has every change this code relies on."""
    return revision is not None and _has_ancestor(revision, OLDEST_SUPPORTED_TENANT_REVISION)


@functools.lru_cache(maxsize=1024)
def _has_ancestor(revision: str, ancestor: str) -> bool:
    try:
        return any(rev.revision == ancestor for rev in script_directory("tenant").iterate_revisions(revision, "base"))
    except Exception:
        return True
