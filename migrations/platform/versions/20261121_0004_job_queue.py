"""The procrastinate job queue, in its own PostgreSQL schema.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-21

procrastinate ships its schema as one SQL script; the script of procrastinate 3.10.0 is kept
next to this revision (so the revision means the same thing forever, whatever procrastinate is
installed) and applied inside schema ``procrastinate`` (workers connect with that search_path);
the downgrade is one DROP SCHEMA. A procrastinate upgrade that changes its schema gets its own
revision, made from procrastinate's migration files.
"""

from collections.abc import Sequence
from pathlib import Path

from alembic import op
from sqlalchemy.util import await_only

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

SCHEMA = "procrastinate"
SCHEMA_SQL = Path(__file__).with_name("procrastinate_3_10_0_schema.sql")


def upgrade() -> None:
    op.execute(f"CREATE SCHEMA {SCHEMA}")
    op.execute(f"SET LOCAL search_path TO {SCHEMA}")
    # A multi-statement script with dollar-quoted bodies: run it through the driver's simple
    # query protocol (asyncpg's execute without arguments), not as a prepared statement.
    driver_connection = op.get_bind().connection.driver_connection
    assert driver_connection is not None
    await_only(driver_connection.execute(SCHEMA_SQL.read_text(encoding="utf-8")))
    op.execute("SET LOCAL search_path TO public")


def downgrade() -> None:
    op.execute(f"DROP SCHEMA {SCHEMA} CASCADE")
