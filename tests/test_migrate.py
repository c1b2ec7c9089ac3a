"""Both alembic trees: upgrade -> downgrade -> upgrade, every step, and no drift from the models."""

from __future__ import annotations

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import Connection, MetaData, text
from sqlalchemy.engine import URL
from sqlalchemy.ext.asyncio import create_async_engine

from kitehub.migrate import Tree, head_revision, migrate_to, script_directory
from kitehub.platform.registry import platform_metadata
from kitehub.tenant.registry import tenant_metadata
from tests.support import table_names

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
