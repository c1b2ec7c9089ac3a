"""Seed the three tiers every instance chooses from.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-21

Prices are integer VND per month; a null limitation means unlimited; storage limits in bytes.
The downgrade removes exactly these rows, and refuses (foreign keys) while a subscription uses one.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import JSONB

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

GIB = 1024**3

TIERS = [
    {
        "code": "BASIC",
        "name": "Basic",
        "monthly_price": 199_000,
        "features": {"engagement": False, "media": False, "premium": False},
        "limitations": {"max_students": 50, "max_courses": 10},
        "storage_limit_bytes": 0,
        "sort_order": 1,
    },
    {
        "code": "STANDARD",
        "name": "Standard",
        "monthly_price": 499_000,
        "features": {"engagement": True, "media": True, "premium": False},
        "limitations": {"max_students": 500, "max_courses": 50},
        "storage_limit_bytes": 5 * GIB,
        "sort_order": 2,
    },
    {
        "code": "PREMIUM",
        "name": "Premium",
        "monthly_price": 999_000,
        "features": {"engagement": True, "media": True, "premium": True},
        "limitations": {"max_students": None, "max_courses": None},
        "storage_limit_bytes": 20 * GIB,
        "sort_order": 3,
    },
]

tiers = sa.table(
    "tiers",
    sa.column("code", sa.String),
    sa.column("name", sa.String),
    sa.column("monthly_price", sa.BigInteger),
    sa.column("features", JSONB),
    sa.column("limitations", JSONB),
    sa.column("storage_limit_bytes", sa.BigInteger),
    sa.column("sort_order", sa.Integer),
)


def upgrade() -> None:
    op.bulk_insert(tiers, TIERS)


def downgrade() -> None:
    op.execute(tiers.delete().where(tiers.c.code.in_([tier["code"] for tier in TIERS])))
