"""Provisioning step ledger, and a notification whenever an instance's routing facts change.

Every KiteHub process caches how to reach a tenant; the triggers NOTIFY channel
``kitehub_instance_changed`` with the instance id in the changing transaction (delivered at
commit), so every process drops its cached entry whoever made the change.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-21
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

NOTIFY_CHANNEL = "kitehub_instance_changed"
NOTIFYING_TABLES = [("instances", "id"), ("subscriptions", "instance_id"), ("database_servers", "id")]

NOTIFY_FUNCTION = f"""
CREATE FUNCTION kitehub_notify_instance_changed() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    row_data jsonb := to_jsonb(COALESCE(NEW, OLD));
BEGIN
    -- database_servers: the payload names the server; listeners drop every tenant on it.
    PERFORM pg_notify('{NOTIFY_CHANNEL}', TG_TABLE_NAME || ':' || (row_data ->> TG_ARGV[0]));
    RETURN NULL;
END
$$
"""


def upgrade() -> None:
    op.create_table(
        "provisioning_steps",
        sa.Column("instance_id", sa.Uuid(), nullable=False),
        sa.Column("step", sa.String(length=32), nullable=False),
        sa.Column(
            "status",
            sa.Enum(
                "RUNNING", "DONE", "FAILED", name="provisioning_step_status", native_enum=False, create_constraint=True
            ),
            nullable=False,
        ),
        sa.Column("attempts", sa.Integer(), server_default=sa.text("1"), nullable=False),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("started_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint("attempts >= 1", name=op.f("ck_provisioning_steps_attempts_positive")),
        sa.ForeignKeyConstraint(
            ["instance_id"],
            ["instances.id"],
            name=op.f("fk_provisioning_steps_instance_id_instances"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("instance_id", "step", name=op.f("pk_provisioning_steps")),
    )
    op.execute(NOTIFY_FUNCTION)
    for table, id_column in NOTIFYING_TABLES:
        op.execute(
            f"CREATE TRIGGER {table}_notify_instance_changed AFTER INSERT OR UPDATE OR DELETE ON {table} "
            f"FOR EACH ROW EXECUTE FUNCTION kitehub_notify_instance_changed('{id_column}')"
        )


def downgrade() -> None:
    for table, _ in NOTIFYING_TABLES:
        op.execute(f"DROP TRIGGER {table}_notify_instance_changed ON {table}")
    op.execute("DROP FUNCTION kitehub_notify_instance_changed()")
    op.drop_table("provisioning_steps")
