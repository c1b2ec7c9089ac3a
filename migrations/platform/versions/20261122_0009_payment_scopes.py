"""Bank deliveries are unique per receiving account; one waiting order per enrollment.

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-22

A school's own webhook and the platform's are separate id spaces: the old (provider, id) key let
a delivery on one shadow a real transfer on the other. Existing rows keep their uniqueness (the
new key is wider). Before the enrollment index, older duplicate PENDING orders of one enrollment
are cancelled (with their event), keeping the newest.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

ZERO = "'00000000-0000-0000-0000-000000000000'::uuid"


def upgrade() -> None:
    op.drop_constraint("uq_bank_transactions_provider_provider_transaction_id", "bank_transactions", type_="unique")
    op.create_index(
        "uq_bank_transactions_provider_scope_transaction",
        "bank_transactions",
        ["provider", sa.text(f"coalesce(instance_id, {ZERO})"), "provider_transaction_id"],
        unique=True,
    )
    op.execute(
        "WITH ranked AS (SELECT id, row_number() OVER (PARTITION BY enrollment_id ORDER BY created_at DESC, id) AS n"
        " FROM payment_orders WHERE type = 'ENROLLMENT' AND status = 'PENDING'),"
        " cancelled AS (UPDATE payment_orders SET status = 'CANCELLED', version = version + 1"
        " WHERE id IN (SELECT id FROM ranked WHERE n > 1) RETURNING id)"
        " INSERT INTO payment_order_events (payment_order_id, from_status, to_status, reason)"
        " SELECT id, 'PENDING', 'CANCELLED', 'superseded by a newer order (migration 0009)' FROM cancelled"
    )
    op.create_index(
        "uq_payment_orders_pending_enrollment",
        "payment_orders",
        ["enrollment_id"],
        unique=True,
        postgresql_where=sa.text("type = 'ENROLLMENT' AND status = 'PENDING'"),
    )


def downgrade() -> None:
    op.drop_index("uq_payment_orders_pending_enrollment", table_name="payment_orders")
    op.drop_index("uq_bank_transactions_provider_scope_transaction", table_name="bank_transactions")
    # Deliveries that only the wider key allowed cannot all fit the old one: refuse rather than drop money.
    op.create_unique_constraint(
        "uq_bank_transactions_provider_provider_transaction_id",
        "bank_transactions",
        ["provider", "provider_transaction_id"],
    )
