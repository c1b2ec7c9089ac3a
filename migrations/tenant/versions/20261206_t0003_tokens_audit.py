"""Staff tokens can be revoked (users.token_generation) and staff changes are audited (audit_log).

Only adds: a column with a default and a table, so the release before this one runs unchanged on
a migrated tenant; run ``kitehub migrate tenants`` before starting the release that needs it
(``OLDEST_SUPPORTED_TENANT_REVISION``).

Revision ID: t0003_tokens_audit
Revises: t0002_login_attempts
Create Date: 2026-12-06
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "t0003_tokens_audit"
down_revision: str | None = "t0002_login_attempts"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column(
        "users",
        sa.Column(
            "token_generation",
            sa.Integer(),
            server_default=sa.text("0"),
            nullable=False,
            comment="tokens carry it (claim gen); raised to revoke every token of the user at once",
        ),
    )
    op.create_check_constraint(op.f("ck_users_token_generation_non_negative"), "users", "token_generation >= 0")
    op.create_table(
        "audit_log",
        sa.Column("occurred_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.Column("actor_role", sa.String(length=32), nullable=False, comment="owner, admin, teacher, staff"),
        sa.Column("actor_user_id", sa.Uuid(), nullable=True, comment="a staff member; null for the owner"),
        sa.Column("actor_account_id", sa.Uuid(), nullable=True, comment="the owner's platform account"),
        sa.Column("actor_email", sa.String(length=320), nullable=True),
        sa.Column("action", sa.String(length=100), nullable=False, comment="e.g. user.role_change"),
        sa.Column("target_user_id", sa.Uuid(), nullable=True),
        sa.Column("ip", postgresql.INET(), nullable=True),
        sa.Column("user_agent", sa.Text(), nullable=True),
        sa.Column("request_id", sa.String(length=128), nullable=True),
        sa.Column("before", postgresql.JSONB(astext_type=sa.Text()), nullable=True),
        sa.Column("after", postgresql.JSONB(astext_type=sa.Text()), nullable=True),
        sa.Column("id", sa.BigInteger(), autoincrement=True, nullable=False),
        sa.ForeignKeyConstraint(
            ["actor_user_id"], ["users.id"], name=op.f("fk_audit_log_actor_user_id_users"), ondelete="SET NULL"
        ),
        sa.ForeignKeyConstraint(
            ["target_user_id"], ["users.id"], name=op.f("fk_audit_log_target_user_id_users"), ondelete="SET NULL"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_audit_log")),
    )
    op.create_index("ix_audit_log_occurred_at", "audit_log", ["occurred_at"], unique=False)
    op.create_index("ix_audit_log_action_occurred_at", "audit_log", ["action", "occurred_at"], unique=False)
    op.create_index(
        "ix_audit_log_actor_user_id_occurred_at", "audit_log", ["actor_user_id", "occurred_at"], unique=False
    )
    op.create_index(
        "ix_audit_log_target_user_id_occurred_at", "audit_log", ["target_user_id", "occurred_at"], unique=False
    )


def downgrade() -> None:
    op.drop_index("ix_audit_log_target_user_id_occurred_at", table_name="audit_log")
    op.drop_index("ix_audit_log_actor_user_id_occurred_at", table_name="audit_log")
    op.drop_index("ix_audit_log_action_occurred_at", table_name="audit_log")
    op.drop_index("ix_audit_log_occurred_at", table_name="audit_log")
    op.drop_table("audit_log")
    op.drop_constraint(op.f("ck_users_token_generation_non_negative"), "users", type_="check")
    op.drop_column("users", "token_generation")
