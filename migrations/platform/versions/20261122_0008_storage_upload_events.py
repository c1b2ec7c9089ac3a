"""Storage events name uploads (bytes taken by a stored file) as such.

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-22

The downgrade keeps every event: an UPLOAD becomes the COMMIT it was recorded as before.
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

CONSTRAINT = "ck_storage_events_storage_event_kind"
OLD = ("RESERVE", "COMMIT", "RELEASE", "DELETE", "ADJUST")


def _kinds(values: Sequence[str]) -> None:
    listed = ", ".join(f"'{value}'" for value in values)
    op.create_check_constraint(op.f(CONSTRAINT), "storage_events", f"kind IN ({listed})")


def upgrade() -> None:
    op.drop_constraint(op.f(CONSTRAINT), "storage_events", type_="check")
    _kinds(("UPLOAD", *OLD))


def downgrade() -> None:
    op.drop_constraint(op.f(CONSTRAINT), "storage_events", type_="check")
    op.execute("UPDATE storage_events SET kind = 'COMMIT' WHERE kind = 'UPLOAD'")
    _kinds(OLD)
