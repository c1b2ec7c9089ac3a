"""The token an owner publishes in DNS to prove a custom domain (``_kitehub.<domain>`` TXT).

Revision ID: 0010_custom_domain_token
Revises: 0009
Create Date: 2026-12-06

Instances that already name a custom domain get a token, so their owners can prove it.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0010_custom_domain_token"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column(
        "instances",
        sa.Column(
            "custom_domain_token",
            sa.String(length=64),
            nullable=True,
            comment="value of the _kitehub.<domain> TXT record proving the domain (public by design)",
        ),
    )
    op.execute(
        "UPDATE instances SET custom_domain_token = 'kitehub-verify=' || md5(random()::text || id::text)"
        " WHERE custom_domain IS NOT NULL"
    )


def downgrade() -> None:
    op.drop_column("instances", "custom_domain_token")
