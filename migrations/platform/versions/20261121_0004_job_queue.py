"""The procrastinate job queue, in its own PostgreSQL schema.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-21

procrastinate ships its schema as one SQL script; it is applied here, inside schema
``procrastinate`` (workers connect with that search_path), so it is versioned with the platform
and the downgrade is one DROP SCHEMA. The script is read from the procrastinate version this
revision was written against and frozen into the database at upgrade time; a later procrastinate
upgrade that changes its schema gets its own revision from its migration files.
"""

from collections.abc import Sequence

from alembic import op
from procrastinate.schema import SchemaManager
from sqlalchemy.util import await_only

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

SCHEMA = "procrastinate"


def upgrade() -> None:
    op.execute(f"CREATE SCHEMA {SCHEMA}")
    op.execute(f"SET LOCAL search_path TO {SCHEMA}")
    # A multi-statement script with dollar-quoted bodies: run it through the driver's simple
    # query protocol (asyncpg's execute without arguments), not as a prepared statement.
    driver_connection = op.get_bind().connection.driver_connection
    assert driver_connection is not None
    await_only(driver_connection.execute(SchemaManager.get_schema()))
    op.execute("SET LOCAL search_path TO public")


def downgrade() -> None:
    op.execute(f"DROP SCHEMA {SCHEMA} CASCADE")
