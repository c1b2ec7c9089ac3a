"""Staff log-in failures per e-mail address, known or not (they were counted on the user row, so an
unknown address was never locked and concurrent failures collided on the row's version).

The lock state of users moves along, both ways. ``users.failed_login_count`` and
``users.locked_until`` are no longer written; a later revision drops them (expand, then contract).

Revision ID: t0002_login_attempts
Revises: t0001
Create Date: 2026-12-06
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "t0002_login_attempts"
down_revision: str | None = "t0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "login_attempts",
        sa.Column("email", sa.String(length=320), nullable=False, comment="lower-cased"),
        sa.Column("failures", sa.Integer(), server_default=sa.text("0"), nullable=False),
        sa.Column("locked_until", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_failure_at", sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint("failures >= 0", name=op.f("ck_login_attempts_failures_non_negative")),
        sa.PrimaryKeyConstraint("email", name=op.f("pk_login_attempts")),
    )
    op.execute(
        # last_failure_at: now, so the nightly clean-up keeps the copied counts for a day
        "INSERT INTO login_attempts (email, failures, locked_until, last_failure_at) "
        "SELECT lower(email), failed_login_count, locked_until, now() FROM users "
        "WHERE deleted_at IS NULL AND failed_login_count > 0"
    )


def downgrade() -> None:
    # the code of this revision never wrote the users' columns: what they hold is stale
    op.execute(
        "UPDATE users SET failed_login_count = 0, locked_until = NULL WHERE failed_login_count <> 0 OR locked_until IS NOT NULL"
    )
    op.execute(
        "UPDATE users SET failed_login_count = a.failures, locked_until = a.locked_until "
        "FROM login_attempts a WHERE lower(users.email) = a.email AND users.deleted_at IS NULL"
    )
    op.drop_table("login_attempts")
