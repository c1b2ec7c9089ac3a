"""Each instance's own bank-webhook key (enrollment payments), kept as a SHA-256 hash.

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-22
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column(
        "instances",
        sa.Column(
            "webhook_key_hash",
            sa.String(length=64),
            nullable=True,
            comment="sha256 of the instance's own bank-webhook key (the key is shown once)",
        ),
    )
    op.create_check_constraint(
        op.f("ck_instances_webhook_key_hash_format"),
        "instances",
        "webhook_key_hash IS NULL OR webhook_key_hash ~ '^[0-9a-f]{64}$'",
    )


def downgrade() -> None:
    op.drop_constraint(op.f("ck_instances_webhook_key_hash_format"), "instances", type_="check")
    op.drop_column("instances", "webhook_key_hash")
