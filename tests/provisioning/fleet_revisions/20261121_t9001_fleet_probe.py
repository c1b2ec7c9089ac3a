"""Test-only tenant revision: a table the fleet tests add to every tenant (and sabotage).

Revision ID: t9001
Revises: t0002_h3_login_attempts (the real tenant head)
Create Date: 2026-11-21
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "t9001"
down_revision: str | None = "t0002_h3_login_attempts"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table("fleet_probe", sa.Column("id", sa.Integer(), primary_key=True))


def downgrade() -> None:
    op.drop_table("fleet_probe")
