"""Test-only tenant revision: a table the fleet tests add to every tenant (and sabotage).

It sits on top of the product's tenant head, whichever that is (read from the product's own
revisions, so a new product revision needs no change here).

Revision ID: t9001
Revises: the product's tenant head
Create Date: 2026-11-21
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from alembic.script import ScriptDirectory

from kitehub.migrate import MIGRATIONS_DIR

_PRODUCT = ScriptDirectory(
    str(MIGRATIONS_DIR / "tenant"), version_locations=[str(MIGRATIONS_DIR / "tenant" / "versions")]
)

revision: str = "t9001"
down_revision: str | None = _PRODUCT.get_current_head()
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table("fleet_probe", sa.Column("id", sa.Integer(), primary_key=True))


def downgrade() -> None:
    op.drop_table("fleet_probe")
