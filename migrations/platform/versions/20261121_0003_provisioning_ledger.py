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

CIPHERTEXT = "'^v1:[A-Za-z0-9_-]+:[A-Za-z0-9_-]+$'"
CHECKS = [
    (
        "ready_has_database",
        "instances",
        "status NOT IN ('READY', 'SUSPENDED') OR (database_server_id IS NOT NULL AND database_name IS NOT NULL"
        " AND database_role IS NOT NULL AND database_password_encrypted IS NOT NULL)",
    ),
    (
        "password_is_ciphertext",
        "instances",
        f"database_password_encrypted IS NULL OR database_password_encrypted ~ {CIPHERTEXT}",
    ),
    (
        "password_is_ciphertext",
        "database_servers",
        f"admin_password_encrypted IS NULL OR admin_password_encrypted ~ {CIPHERTEXT}",
    ),
]

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
            sa.Enum("DONE", "FAILED", name="provisioning_step_status", native_enum=False, create_constraint=True),
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
    # A tenant database and its role belong to one instance until it is purged.
    op.create_index(
        "uq_instances_database_unpurged",
        "instances",
        ["database_server_id", "database_name"],
        unique=True,
        postgresql_where=sa.text("status <> 'PURGED' AND database_name IS NOT NULL"),
    )
    op.create_index(
        "uq_instances_database_role_unpurged",
        "instances",
        ["database_server_id", "database_role"],
        unique=True,
        postgresql_where=sa.text("status <> 'PURGED' AND database_role IS NOT NULL"),
    )
    for name, table, condition in CHECKS:
        op.create_check_constraint(name, table, condition)
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
    for name, table, _ in reversed(CHECKS):
        op.drop_constraint(op.f(f"ck_{table}_{name}"), table, type_="check")
    op.drop_index("uq_instances_database_role_unpurged", table_name="instances")
    op.drop_index("uq_instances_database_unpurged", table_name="instances")
    op.drop_table("provisioning_steps")
