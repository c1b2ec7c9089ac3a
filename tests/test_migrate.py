"""Both alembic trees: upgrade -> downgrade -> upgrade, every step, and no drift from the models."""

from __future__ import annotations

import asyncio
import uuid

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import Connection, MetaData, text
from sqlalchemy.engine import URL
from sqlalchemy.ext.asyncio import create_async_engine

from kitehub.migrate import Tree, head_revision, migrate_to, script_directory
from kitehub.platform.registry import platform_metadata
from kitehub.tenant.registry import tenant_metadata
from tests.support import connect, create_database, drop_database, table_names

METADATA: dict[Tree, MetaData] = {"platform": platform_metadata, "tenant": tenant_metadata}


@pytest.mark.parametrize("tree", ["platform", "tenant"])
async def test_upgrade_downgrade_upgrade(tree: Tree, fresh_database_url: URL) -> None:
    engine = create_async_engine(fresh_database_url)
    try:
        assert await migrate_to(engine, tree, "head") == (None, head_revision(tree))
        expected_tables = set(METADATA[tree].tables)
        assert expected_tables <= await table_names(fresh_database_url)

        assert (await migrate_to(engine, tree, "base"))[1] is None
        assert await table_names(fresh_database_url) <= {"alembic_version"}

        assert (await migrate_to(engine, tree, "head"))[1] == head_revision(tree)
        assert expected_tables <= await table_names(fresh_database_url)
    finally:
        await engine.dispose()


@pytest.mark.parametrize("tree", ["platform", "tenant"])
async def test_every_revision_downgrades_and_upgrades_again(tree: Tree, fresh_database_url: URL) -> None:
    """The stairway: from each revision, one step down and back up must work."""
    revisions = [script.revision for script in script_directory(tree).walk_revisions()]  # head first
    engine = create_async_engine(fresh_database_url)
    try:
        for revision in reversed(revisions):
            down = script_directory(tree).get_revision(revision).down_revision
            assert (await migrate_to(engine, tree, revision))[1] == revision
            assert (await migrate_to(engine, tree, str(down) if down else "base"))[1] == down
            assert (await migrate_to(engine, tree, revision))[1] == revision
    finally:
        await engine.dispose()


@pytest.mark.parametrize("tree", ["platform", "tenant"])
async def test_migrated_schema_matches_the_models(tree: Tree, fresh_database_url: URL) -> None:
    engine = create_async_engine(fresh_database_url)

    def differences(connection: Connection) -> list[object]:
        return list(compare_metadata(MigrationContext.configure(connection), METADATA[tree]))

    try:
        await migrate_to(engine, tree, "head")
        async with engine.connect() as conn:
            assert await conn.run_sync(differences) == []
    finally:
        await engine.dispose()


async def test_tiers_are_seeded(platform_url: URL) -> None:
    engine = create_async_engine(platform_url)
    try:
        async with engine.connect() as conn:
            rows = (
                await conn.execute(
                    text(
                        "SELECT code, monthly_price, features, limitations, storage_limit_bytes"
                        " FROM tiers ORDER BY code"
                    )
                )
            ).all()
    finally:
        await engine.dispose()
    gib = 1024**3
    assert [tuple(row) for row in rows] == [
        ("BASIC", 199_000, {"engagement": False, "media": False, "premium": False},
         {"max_students": 50, "max_courses": 10}, 0),
        ("PREMIUM", 999_000, {"engagement": True, "media": True, "premium": True},
         {"max_students": None, "max_courses": None}, 20 * gib),
        ("STANDARD", 499_000, {"engagement": True, "media": True, "premium": False},
         {"max_students": 500, "max_courses": 50}, 5 * gib),
    ]  # fmt: skip


async def test_older_target_downgrades(fresh_database_url: URL) -> None:
    engine = create_async_engine(fresh_database_url)
    try:
        await migrate_to(engine, "platform", "head")
        before, after = await migrate_to(engine, "platform", "0001")
        assert (before, after) == (head_revision("platform"), "0001")
        assert "tiers" in await table_names(fresh_database_url)
        async with engine.connect() as conn:
            assert (await conn.execute(text("SELECT count(*) FROM tiers"))).scalar_one() == 0
    finally:
        await engine.dispose()


SCHEMA_SHAPE_QUERIES = {
    "constraints": """
        SELECT c.conrelid::regclass::text AS tbl, c.conname AS name, pg_get_constraintdef(c.oid) AS def
        FROM pg_constraint c JOIN pg_namespace n ON n.oid = c.connamespace
        WHERE n.nspname = 'public' AND c.conrelid::regclass::text <> 'alembic_version'""",
    "indexes": """
        SELECT tablename AS tbl, indexname AS name, indexdef AS def FROM pg_indexes
        WHERE schemaname = 'public' AND tablename <> 'alembic_version'""",
    "columns": """
        SELECT table_name AS tbl, column_name AS name,
               concat_ws(' ', data_type, character_maximum_length, is_nullable, column_default) AS def
        FROM information_schema.columns WHERE table_schema = 'public' AND table_name <> 'alembic_version'""",
}


async def _schema_shape(url: URL) -> dict[str, set[tuple[str, str, str]]]:
    async with connect(url) as conn:
        return {
            kind: {(row["tbl"], row["name"], row["def"]) for row in await conn.fetch(query)}
            for kind, query in SCHEMA_SHAPE_QUERIES.items()
        }


@pytest.mark.parametrize("tree", ["platform", "tenant"])
async def test_migrations_build_exactly_what_the_models_declare(tree: Tree, server_url: URL) -> None:
    """Columns, CHECK/unique/foreign keys and index definitions (partial predicates included):
    alembic's autogenerate comparison ignores CHECK constraints and index predicates."""
    suffix = uuid.uuid4().hex[:8]
    migrated = await create_database(server_url, f"shape_migrated_{suffix}")
    declared = await create_database(server_url, f"shape_declared_{suffix}")
    try:
        engine = create_async_engine(migrated)
        await migrate_to(engine, tree, "head")
        await engine.dispose()
        engine = create_async_engine(declared)
        async with engine.begin() as conn:
            await conn.run_sync(METADATA[tree].create_all)
        await engine.dispose()
        migrated_shape, declared_shape = await _schema_shape(migrated), await _schema_shape(declared)
        for kind in SCHEMA_SHAPE_QUERIES:
            assert migrated_shape[kind] - declared_shape[kind] == set(), f"{kind} only in the migrations"
            assert declared_shape[kind] - migrated_shape[kind] == set(), f"{kind} only in the models"
    finally:
        await drop_database(server_url, migrated.database or "")
        await drop_database(server_url, declared.database or "")


async def test_concurrent_migrations_of_one_database_both_succeed(fresh_database_url: URL) -> None:
    engines = [create_async_engine(fresh_database_url) for _ in range(3)]
    try:
        results = await asyncio.gather(*(migrate_to(engine, "platform", "head") for engine in engines))
    finally:
        for engine in engines:
            await engine.dispose()
    assert {after for _, after in results} == {head_revision("platform")}
    assert sum(before is None for before, _ in results) == 1  # exactly one of them did the work


async def test_staff_lock_state_moves_to_login_attempts_and_back(fresh_database_url: URL) -> None:
    """t0002 copies the users' lock state into login_attempts (kept a day by the clean-up), and its
    downgrade puts back what login_attempts holds then, not the stale copy left on users."""
    engine = create_async_engine(fresh_database_url)
    try:
        await migrate_to(engine, "tenant", "t0001")
        async with engine.begin() as conn:
            await conn.execute(
                text(
                    "INSERT INTO users (email, full_name, role, password_hash, failed_login_count) VALUES"
                    " ('Failing@School.vn', 'A', 'teacher', 'x', 3), ('relieved@school.vn', 'B', 'staff', 'x', 4)"
                )
            )
        await migrate_to(engine, "tenant", "t0002_login_attempts")
        async with engine.begin() as conn:
            moved = (await conn.execute(text("SELECT email, failures, last_failure_at FROM login_attempts"))).all()
            assert {(email, failures) for email, failures, _ in moved} == {
                ("failing@school.vn", 3), ("relieved@school.vn", 4)
            }  # fmt: skip
            assert all(last_failure is not None for _, _, last_failure in moved)
            await conn.execute(
                text("DELETE FROM login_attempts WHERE email = 'relieved@school.vn'")
            )  # a right password

        await migrate_to(engine, "tenant", "t0001")
        async with engine.connect() as conn:
            rows = (await conn.execute(text("SELECT email, failed_login_count FROM users"))).all()
        counts = {str(row[0]): int(row[1]) for row in rows}
        assert counts == {"Failing@School.vn": 3, "relieved@school.vn": 0}
    finally:
        await engine.dispose()
