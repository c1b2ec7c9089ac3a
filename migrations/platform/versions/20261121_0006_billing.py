"""Billing: bank-transaction states as the API names them, and the paying transfer's reference.

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-21

``bank_transactions.status`` values become lower case (``needs_review``), the form the admin API
filters on; rows are rewritten both ways so a downgrade keeps every delivery.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

STATUSES = ("RECEIVED", "MATCHED", "NEEDS_REVIEW", "IGNORED", "RESOLVED")
CONSTRAINT = "ck_bank_transactions_bank_transaction_status"


def _status_check(values: Sequence[str]) -> None:
    listed = ", ".join(f"'{value}'" for value in values)
    op.create_check_constraint(op.f(CONSTRAINT), "bank_transactions", f"status IN ({listed})")


PLAN_CHECK = "ck_payment_orders_subscription_has_plan"
OLD_PLAN = "type <> 'SUBSCRIPTION' OR (tier_code IS NOT NULL AND months IS NOT NULL)"
NEW_PLAN = "type <> 'SUBSCRIPTION' OR (tier_code IS NOT NULL AND (kind = 'UPGRADE' OR months IS NOT NULL))"


def upgrade() -> None:
    op.drop_constraint(op.f(CONSTRAINT), "bank_transactions", type_="check")
    op.execute("UPDATE bank_transactions SET status = lower(status)")
    op.alter_column("bank_transactions", "status", server_default="received")
    _status_check([value.lower() for value in STATUSES])
    op.add_column(
        "payment_orders",
        sa.Column(
            "paid_reference",
            sa.String(length=128),
            nullable=True,
            comment="the bank's transaction reference, or the admin's note for a manual confirmation",
        ),
    )
    # What a SUBSCRIPTION order buys; existing ones bought months (an upgrade needs none).
    op.add_column(
        "payment_orders",
        sa.Column(
            "kind",
            sa.Enum("PERIOD", "UPGRADE", name="payment_order_kind", native_enum=False, create_constraint=True),
            nullable=True,
        ),
    )
    op.execute("UPDATE payment_orders SET kind = 'PERIOD' WHERE type = 'SUBSCRIPTION'")
    op.create_check_constraint(
        op.f("ck_payment_orders_subscription_has_kind"),
        "payment_orders",
        "(type = 'SUBSCRIPTION') = (kind IS NOT NULL)",
    )
    op.drop_constraint(op.f(PLAN_CHECK), "payment_orders", type_="check")
    op.create_check_constraint(op.f(PLAN_CHECK), "payment_orders", NEW_PLAN)


def downgrade() -> None:
    # An upgrade order has no months, which the old rule requires: it counts as one month's order.
    op.execute("UPDATE payment_orders SET months = 1 WHERE kind = 'UPGRADE' AND months IS NULL")
    op.drop_constraint(op.f(PLAN_CHECK), "payment_orders", type_="check")
    op.create_check_constraint(op.f(PLAN_CHECK), "payment_orders", OLD_PLAN)
    op.drop_constraint(op.f("ck_payment_orders_subscription_has_kind"), "payment_orders", type_="check")
    op.drop_column("payment_orders", "kind")
    op.drop_column("payment_orders", "paid_reference")
    op.drop_constraint(op.f(CONSTRAINT), "bank_transactions", type_="check")
    op.execute("UPDATE bank_transactions SET status = upper(status)")
    op.alter_column("bank_transactions", "status", server_default="RECEIVED")
    _status_check(STATUSES)
