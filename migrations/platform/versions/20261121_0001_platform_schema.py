"""Platform schema: accounts, instances, servers, tiers, billing, storage, jobs, audit, settings.

Revision ID: 0001
Revises:
Create Date: 2026-11-21
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "accounts",
        sa.Column("email", sa.String(length=320), nullable=False),
        sa.Column("password_hash", sa.String(length=255), nullable=False),
        sa.Column("full_name", sa.String(length=200), nullable=False),
        sa.Column(
            "role",
            sa.Enum(
                "owner",
                "admin",
                name="account_role",
                native_enum=False,
                create_constraint=True,
            ),
            server_default="owner",
            nullable=False,
        ),
        sa.Column("is_active", sa.Boolean(), server_default=sa.text("true"), nullable=False),
        sa.Column(
            "failed_login_count",
            sa.Integer(),
            server_default=sa.text("0"),
            nullable=False,
        ),
        sa.Column("locked_until", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_login_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("id", sa.Uuid(), server_default=sa.text("gen_random_uuid()"), nullable=False),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column(
            "updated_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column("deleted_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("version", sa.Integer(), server_default=sa.text("1"), nullable=False),
        sa.CheckConstraint("position('@' in email) > 1", name=op.f("ck_accounts_email_has_at")),
        sa.CheckConstraint(
            "failed_login_count >= 0",
            name=op.f("ck_accounts_failed_login_count_non_negative"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_accounts")),
    )
    op.create_index(
        "uq_accounts_email_live",
        "accounts",
        [sa.literal_column("lower(email)")],
        unique=True,
        postgresql_where=sa.text("deleted_at IS NULL"),
    )
    op.create_table(
        "database_servers",
        sa.Column("name", sa.String(length=63), nullable=False),
        sa.Column(
            "host",
            sa.String(length=255),
            nullable=False,
            comment="host name, IP, or Unix socket directory",
        ),
        sa.Column("port", sa.Integer(), server_default=sa.text("5432"), nullable=False),
        sa.Column("admin_username", sa.String(length=63), nullable=False),
        sa.Column(
            "admin_password_encrypted",
            sa.Text(),
            nullable=True,
            comment="v1:<kid>:<...>, null for trust/peer",
        ),
        sa.Column(
            "maintenance_database",
            sa.String(length=63),
            server_default=sa.text("'postgres'"),
            nullable=False,
        ),
        sa.Column("max_tenants", sa.Integer(), server_default=sa.text("500"), nullable=False),
        sa.Column(
            "status",
            sa.Enum(
                "active",
                "draining",
                name="database_server_status",
                native_enum=False,
                create_constraint=True,
            ),
            server_default="active",
            nullable=False,
        ),
        sa.Column("id", sa.Uuid(), server_default=sa.text("gen_random_uuid()"), nullable=False),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column(
            "updated_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column("deleted_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("version", sa.Integer(), server_default=sa.text("1"), nullable=False),
        sa.CheckConstraint(
            "name ~ '^[a-z0-9][a-z0-9_-]{0,62}$'",
            name=op.f("ck_database_servers_name_format"),
        ),
        sa.CheckConstraint("max_tenants > 0", name=op.f("ck_database_servers_max_tenants_positive")),
        sa.CheckConstraint("port BETWEEN 1 AND 65535", name=op.f("ck_database_servers_port_range")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_database_servers")),
    )
    op.create_index(
        "uq_database_servers_name_live",
        "database_servers",
        ["name"],
        unique=True,
        postgresql_where=sa.text("deleted_at IS NULL"),
    )
    op.create_table(
        "tiers",
        sa.Column("code", sa.String(length=32), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column(
            "monthly_price",
            sa.BigInteger(),
            nullable=False,
            comment="VND per month, integer",
        ),
        sa.Column(
            "features",
            postgresql.JSONB(astext_type=sa.Text()),
            server_default=sa.text("'{}'::jsonb"),
            nullable=False,
        ),
        sa.Column(
            "limitations",
            postgresql.JSONB(astext_type=sa.Text()),
            server_default=sa.text("'{}'::jsonb"),
            nullable=False,
            comment="null value = unlimited",
        ),
        sa.Column(
            "storage_limit_bytes",
            sa.BigInteger(),
            server_default=sa.text("0"),
            nullable=False,
        ),
        sa.Column("sort_order", sa.Integer(), server_default=sa.text("0"), nullable=False),
        sa.Column("is_public", sa.Boolean(), server_default=sa.text("true"), nullable=False),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column(
            "updated_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column("version", sa.Integer(), server_default=sa.text("1"), nullable=False),
        sa.CheckConstraint("code ~ '^[A-Z][A-Z0-9_]{1,31}$'", name=op.f("ck_tiers_code_format")),
        sa.CheckConstraint(
            "jsonb_typeof(features) = 'object'",
            name=op.f("ck_tiers_features_is_object"),
        ),
        sa.CheckConstraint(
            "jsonb_typeof(limitations) = 'object'",
            name=op.f("ck_tiers_limitations_is_object"),
        ),
        sa.CheckConstraint("monthly_price >= 0", name=op.f("ck_tiers_monthly_price_non_negative")),
        sa.CheckConstraint("storage_limit_bytes >= 0", name=op.f("ck_tiers_storage_limit_non_negative")),
        sa.PrimaryKeyConstraint("code", name=op.f("pk_tiers")),
    )
    op.create_table(
        "audit_log",
        sa.Column(
            "occurred_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column("actor_id", sa.Uuid(), nullable=True, comment="null for the system itself"),
        sa.Column(
            "actor_role",
            sa.String(length=32),
            nullable=False,
            comment="owner, admin, system, webhook",
        ),
        sa.Column(
            "action",
            sa.String(length=100),
            nullable=False,
            comment="e.g. instance.suspend",
        ),
        sa.Column("target_type", sa.String(length=64), nullable=False),
        sa.Column("target_id", sa.String(length=128), nullable=True),
        sa.Column("ip", postgresql.INET(), nullable=True),
        sa.Column("user_agent", sa.Text(), nullable=True),
        sa.Column("request_id", sa.String(length=128), nullable=True),
        sa.Column("before", postgresql.JSONB(astext_type=sa.Text()), nullable=True),
        sa.Column("after", postgresql.JSONB(astext_type=sa.Text()), nullable=True),
        sa.Column("id", sa.BigInteger(), autoincrement=True, nullable=False),
        sa.ForeignKeyConstraint(
            ["actor_id"],
            ["accounts.id"],
            name=op.f("fk_audit_log_actor_id_accounts"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_audit_log")),
    )
    op.create_index(
        "ix_audit_log_action_occurred_at",
        "audit_log",
        ["action", "occurred_at"],
        unique=False,
    )
    op.create_index(
        "ix_audit_log_actor_id_occurred_at",
        "audit_log",
        ["actor_id", "occurred_at"],
        unique=False,
    )
    op.create_index("ix_audit_log_occurred_at", "audit_log", ["occurred_at"], unique=False)
    op.create_index(
        "ix_audit_log_target_type_target_id_occurred_at",
        "audit_log",
        ["target_type", "target_id", "occurred_at"],
        unique=False,
    )
    op.create_table(
        "instances",
        sa.Column("subdomain", sa.String(length=50), nullable=False),
        sa.Column("custom_domain", sa.String(length=253), nullable=True),
        sa.Column("custom_domain_verified_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("organization_name", sa.String(length=200), nullable=False),
        sa.Column("owner_id", sa.Uuid(), nullable=False),
        sa.Column(
            "status",
            sa.Enum(
                "PROVISIONING",
                "READY",
                "FAILED",
                "SUSPENDED",
                "DELETED",
                "PURGED",
                name="instance_status",
                native_enum=False,
                create_constraint=True,
            ),
            server_default="PROVISIONING",
            nullable=False,
        ),
        sa.Column(
            "status_reason",
            sa.Text(),
            nullable=True,
            comment="why FAILED or SUSPENDED, for people",
        ),
        sa.Column("bank_bin", sa.String(length=6), nullable=True),
        sa.Column("bank_account_number", sa.String(length=19), nullable=True),
        sa.Column("bank_account_name", sa.String(length=100), nullable=True),
        sa.Column(
            "qr_template",
            sa.String(length=100),
            nullable=True,
            comment="e.g. 'HOCPHI {courseId} {studentName}'",
        ),
        sa.Column("database_server_id", sa.Uuid(), nullable=True),
        sa.Column("database_name", sa.String(length=63), nullable=True),
        sa.Column("database_role", sa.String(length=63), nullable=True),
        sa.Column("database_password_encrypted", sa.Text(), nullable=True),
        sa.Column("schema_revision", sa.String(length=64), nullable=True),
        sa.Column("provisioned_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("id", sa.Uuid(), server_default=sa.text("gen_random_uuid()"), nullable=False),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column(
            "updated_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column("deleted_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("version", sa.Integer(), server_default=sa.text("1"), nullable=False),
        sa.CheckConstraint(
            "(status = 'DELETED' OR status = 'PURGED') = (deleted_at IS NOT NULL)",
            name=op.f("ck_instances_deleted_status"),
        ),
        sa.CheckConstraint(
            "bank_account_number IS NULL OR bank_account_number ~ '^[0-9]{1,19}$'",
            name=op.f("ck_instances_bank_account_number_format"),
        ),
        sa.CheckConstraint(
            "bank_bin IS NULL OR bank_bin ~ '^[0-9]{6}$'",
            name=op.f("ck_instances_bank_bin_format"),
        ),
        sa.CheckConstraint(
            "subdomain ~ '^[a-z0-9]([a-z0-9-]{1,48}[a-z0-9])$'",
            name=op.f("ck_instances_subdomain_format"),
        ),
        sa.CheckConstraint(
            "(bank_bin IS NULL) = (bank_account_number IS NULL) AND (bank_bin IS NULL) = (bank_account_name IS NULL)",
            name=op.f("ck_instances_bank_account_complete"),
        ),
        sa.CheckConstraint(
            "custom_domain IS NULL OR custom_domain = lower(custom_domain)",
            name=op.f("ck_instances_custom_domain_lower"),
        ),
        sa.ForeignKeyConstraint(
            ["database_server_id"],
            ["database_servers.id"],
            name=op.f("fk_instances_database_server_id_database_servers"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["owner_id"],
            ["accounts.id"],
            name=op.f("fk_instances_owner_id_accounts"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_instances")),
    )
    op.create_index(
        "ix_instances_database_server_id",
        "instances",
        ["database_server_id"],
        unique=False,
    )
    op.create_index("ix_instances_owner_id", "instances", ["owner_id"], unique=False)
    op.create_index("ix_instances_status", "instances", ["status"], unique=False)
    op.create_index(
        "uq_instances_custom_domain_verified",
        "instances",
        ["custom_domain"],
        unique=True,
        postgresql_where=sa.text("deleted_at IS NULL AND custom_domain_verified_at IS NOT NULL"),
    )
    op.create_index(
        "uq_instances_subdomain_live",
        "instances",
        ["subdomain"],
        unique=True,
        postgresql_where=sa.text("deleted_at IS NULL"),
    )
    op.create_table(
        "settings",
        sa.Column("key", sa.String(length=100), nullable=False),
        sa.Column("value", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("description", sa.Text(), nullable=True),
        sa.Column("updated_by", sa.Uuid(), nullable=True),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column(
            "updated_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column("version", sa.Integer(), server_default=sa.text("1"), nullable=False),
        sa.CheckConstraint("key ~ '^[a-z][a-z0-9_.]{0,99}$'", name=op.f("ck_settings_key_format")),
        sa.ForeignKeyConstraint(
            ["updated_by"],
            ["accounts.id"],
            name=op.f("fk_settings_updated_by_accounts"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("key", name=op.f("pk_settings")),
    )
    op.create_table(
        "branding_jobs",
        sa.Column("instance_id", sa.Uuid(), nullable=False),
        sa.Column("kind", sa.String(length=64), nullable=False),
        sa.Column(
            "status",
            sa.Enum(
                "QUEUED",
                "RUNNING",
                "SUCCEEDED",
                "FAILED",
                name="branding_job_status",
                native_enum=False,
                create_constraint=True,
            ),
            server_default="QUEUED",
            nullable=False,
        ),
        sa.Column(
            "input",
            postgresql.JSONB(astext_type=sa.Text()),
            server_default=sa.text("'{}'::jsonb"),
            nullable=False,
        ),
        sa.Column("result", postgresql.JSONB(astext_type=sa.Text()), nullable=True),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("attempts", sa.Integer(), server_default=sa.text("0"), nullable=False),
        sa.Column("requested_by", sa.Uuid(), nullable=True),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("id", sa.Uuid(), server_default=sa.text("gen_random_uuid()"), nullable=False),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column(
            "updated_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column("version", sa.Integer(), server_default=sa.text("1"), nullable=False),
        sa.CheckConstraint("attempts >= 0", name=op.f("ck_branding_jobs_attempts_non_negative")),
        sa.ForeignKeyConstraint(
            ["instance_id"],
            ["instances.id"],
            name=op.f("fk_branding_jobs_instance_id_instances"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["requested_by"],
            ["accounts.id"],
            name=op.f("fk_branding_jobs_requested_by_accounts"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_branding_jobs")),
    )
    op.create_index(
        "ix_branding_jobs_instance_id_created_at",
        "branding_jobs",
        ["instance_id", "created_at"],
        unique=False,
    )
    op.create_index("ix_branding_jobs_status", "branding_jobs", ["status"], unique=False)
    op.create_table(
        "instance_events",
        sa.Column("instance_id", sa.Uuid(), nullable=False),
        sa.Column(
            "from_status",
            sa.Enum(
                "PROVISIONING",
                "READY",
                "FAILED",
                "SUSPENDED",
                "DELETED",
                "PURGED",
                name="instance_event_from_status",
                native_enum=False,
                create_constraint=True,
            ),
            nullable=True,
        ),
        sa.Column(
            "to_status",
            sa.Enum(
                "PROVISIONING",
                "READY",
                "FAILED",
                "SUSPENDED",
                "DELETED",
                "PURGED",
                name="instance_event_to_status",
                native_enum=False,
                create_constraint=True,
            ),
            nullable=False,
        ),
        sa.Column("actor_id", sa.Uuid(), nullable=True),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column("id", sa.BigInteger(), autoincrement=True, nullable=False),
        sa.ForeignKeyConstraint(
            ["actor_id"],
            ["accounts.id"],
            name=op.f("fk_instance_events_actor_id_accounts"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["instance_id"],
            ["instances.id"],
            name=op.f("fk_instance_events_instance_id_instances"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_instance_events")),
    )
    op.create_index(
        "ix_instance_events_instance_id_created_at",
        "instance_events",
        ["instance_id", "created_at"],
        unique=False,
    )
    op.create_table(
        "payment_orders",
        sa.Column("order_code", sa.String(length=16), nullable=False),
        sa.Column(
            "type",
            sa.Enum(
                "SUBSCRIPTION",
                "ENROLLMENT",
                name="payment_order_type",
                native_enum=False,
                create_constraint=True,
            ),
            nullable=False,
        ),
        sa.Column(
            "status",
            sa.Enum(
                "PENDING",
                "PAID",
                "EXPIRED",
                "CANCELLED",
                name="payment_order_status",
                native_enum=False,
                create_constraint=True,
            ),
            server_default="PENDING",
            nullable=False,
        ),
        sa.Column("instance_id", sa.Uuid(), nullable=False),
        sa.Column("tier_code", sa.String(length=32), nullable=True),
        sa.Column("months", sa.Integer(), nullable=True),
        sa.Column(
            "enrollment_id",
            sa.Uuid(),
            nullable=True,
            comment="tenant database enrollment, for ENROLLMENT orders",
        ),
        sa.Column("amount", sa.BigInteger(), nullable=False, comment="VND, integer"),
        sa.Column(
            "amount_received",
            sa.BigInteger(),
            server_default=sa.text("0"),
            nullable=False,
        ),
        sa.Column("transfer_content", sa.String(length=25), nullable=False),
        sa.Column("qr_payload", sa.Text(), nullable=False),
        sa.Column("bank_bin", sa.String(length=6), nullable=False),
        sa.Column("bank_account_number", sa.String(length=19), nullable=False),
        sa.Column("bank_account_name", sa.String(length=100), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("paid_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_by", sa.Uuid(), nullable=True),
        sa.Column("idempotency_key", sa.String(length=255), nullable=True),
        sa.Column(
            "request_fingerprint",
            sa.String(length=64),
            nullable=True,
            comment="sha256 of the creating request",
        ),
        sa.Column(
            "details",
            postgresql.JSONB(astext_type=sa.Text()),
            server_default=sa.text("'{}'::jsonb"),
            nullable=False,
        ),
        sa.Column("id", sa.Uuid(), server_default=sa.text("gen_random_uuid()"), nullable=False),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column(
            "updated_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column("version", sa.Integer(), server_default=sa.text("1"), nullable=False),
        sa.CheckConstraint(
            "(status = 'PAID') = (paid_at IS NOT NULL)",
            name=op.f("ck_payment_orders_paid_at_iff_paid"),
        ),
        sa.CheckConstraint("bank_bin ~ '^[0-9]{6}$'", name=op.f("ck_payment_orders_bank_bin_format")),
        sa.CheckConstraint(
            "order_code ~ '^[A-Z0-9]{6,16}$'",
            name=op.f("ck_payment_orders_order_code_format"),
        ),
        sa.CheckConstraint(
            "type <> 'ENROLLMENT' OR enrollment_id IS NOT NULL",
            name=op.f("ck_payment_orders_enrollment_has_reference"),
        ),
        sa.CheckConstraint(
            "type <> 'SUBSCRIPTION' OR (tier_code IS NOT NULL AND months IS NOT NULL)",
            name=op.f("ck_payment_orders_subscription_has_plan"),
        ),
        sa.CheckConstraint("amount > 0", name=op.f("ck_payment_orders_amount_positive")),
        sa.CheckConstraint(
            "amount_received >= 0",
            name=op.f("ck_payment_orders_amount_received_non_negative"),
        ),
        sa.CheckConstraint(
            "months IS NULL OR months BETWEEN 1 AND 12",
            name=op.f("ck_payment_orders_months_range"),
        ),
        sa.ForeignKeyConstraint(
            ["created_by"],
            ["accounts.id"],
            name=op.f("fk_payment_orders_created_by_accounts"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["instance_id"],
            ["instances.id"],
            name=op.f("fk_payment_orders_instance_id_instances"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["tier_code"],
            ["tiers.code"],
            name=op.f("fk_payment_orders_tier_code_tiers"),
            onupdate="CASCADE",
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_payment_orders")),
        sa.UniqueConstraint("order_code", name=op.f("uq_payment_orders_order_code")),
    )
    op.create_index(
        "ix_payment_orders_instance_id_created_at",
        "payment_orders",
        ["instance_id", "created_at"],
        unique=False,
    )
    op.create_index(
        "ix_payment_orders_status_expires_at",
        "payment_orders",
        ["status", "expires_at"],
        unique=False,
    )
    op.create_index(
        "uq_payment_orders_created_by_idempotency_key",
        "payment_orders",
        ["created_by", "idempotency_key"],
        unique=True,
        postgresql_where=sa.text("idempotency_key IS NOT NULL"),
    )
    op.create_table(
        "storage_events",
        sa.Column("instance_id", sa.Uuid(), nullable=False),
        sa.Column(
            "kind",
            sa.Enum(
                "RESERVE",
                "COMMIT",
                "RELEASE",
                "DELETE",
                "ADJUST",
                name="storage_event_kind",
                native_enum=False,
                create_constraint=True,
            ),
            nullable=False,
        ),
        sa.Column("bytes_delta", sa.BigInteger(), nullable=False),
        sa.Column("media_id", sa.Uuid(), nullable=True, comment="tenant database media file"),
        sa.Column("reservation_id", sa.Uuid(), nullable=True),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column("id", sa.BigInteger(), autoincrement=True, nullable=False),
        sa.ForeignKeyConstraint(
            ["instance_id"],
            ["instances.id"],
            name=op.f("fk_storage_events_instance_id_instances"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_storage_events")),
    )
    op.create_index(
        "ix_storage_events_instance_id_created_at",
        "storage_events",
        ["instance_id", "created_at"],
        unique=False,
    )
    op.create_table(
        "storage_usage",
        sa.Column("instance_id", sa.Uuid(), nullable=False),
        sa.Column("used_bytes", sa.BigInteger(), server_default=sa.text("0"), nullable=False),
        sa.Column(
            "reserved_bytes",
            sa.BigInteger(),
            server_default=sa.text("0"),
            nullable=False,
        ),
        sa.Column(
            "updated_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column("version", sa.Integer(), server_default=sa.text("1"), nullable=False),
        sa.CheckConstraint("reserved_bytes >= 0", name=op.f("ck_storage_usage_reserved_non_negative")),
        sa.CheckConstraint("used_bytes >= 0", name=op.f("ck_storage_usage_used_non_negative")),
        sa.ForeignKeyConstraint(
            ["instance_id"],
            ["instances.id"],
            name=op.f("fk_storage_usage_instance_id_instances"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("instance_id", name=op.f("pk_storage_usage")),
    )
    op.create_table(
        "subscriptions",
        sa.Column("instance_id", sa.Uuid(), nullable=False),
        sa.Column("tier_code", sa.String(length=32), nullable=False),
        sa.Column(
            "status",
            sa.Enum(
                "TRIAL",
                "ACTIVE",
                "PAST_DUE",
                "EXPIRED",
                "CANCELED",
                name="subscription_status",
                native_enum=False,
                create_constraint=True,
            ),
            server_default="TRIAL",
            nullable=False,
        ),
        sa.Column("trial_end", sa.DateTime(timezone=True), nullable=True),
        sa.Column("current_period_start", sa.DateTime(timezone=True), nullable=True),
        sa.Column("current_period_end", sa.DateTime(timezone=True), nullable=True),
        sa.Column("grace_until", sa.DateTime(timezone=True), nullable=True),
        sa.Column(
            "cancel_at_period_end",
            sa.Boolean(),
            server_default=sa.text("false"),
            nullable=False,
        ),
        sa.Column(
            "scheduled_tier_code",
            sa.String(length=32),
            nullable=True,
            comment="downgrade at period end",
        ),
        sa.Column("id", sa.Uuid(), server_default=sa.text("gen_random_uuid()"), nullable=False),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column(
            "updated_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column("version", sa.Integer(), server_default=sa.text("1"), nullable=False),
        sa.CheckConstraint(
            "status <> 'TRIAL' OR trial_end IS NOT NULL",
            name=op.f("ck_subscriptions_trial_has_end"),
        ),
        sa.CheckConstraint(
            "status NOT IN ('ACTIVE', 'PAST_DUE') OR current_period_end IS NOT NULL",
            name=op.f("ck_subscriptions_paid_has_period"),
        ),
        sa.CheckConstraint(
            "current_period_end IS NULL OR current_period_start IS NULL OR current_period_end > current_period_start",
            name=op.f("ck_subscriptions_period_ordered"),
        ),
        sa.ForeignKeyConstraint(
            ["instance_id"],
            ["instances.id"],
            name=op.f("fk_subscriptions_instance_id_instances"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["scheduled_tier_code"],
            ["tiers.code"],
            name=op.f("fk_subscriptions_scheduled_tier_code_tiers"),
            onupdate="CASCADE",
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["tier_code"],
            ["tiers.code"],
            name=op.f("fk_subscriptions_tier_code_tiers"),
            onupdate="CASCADE",
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_subscriptions")),
        sa.UniqueConstraint("instance_id", name=op.f("uq_subscriptions_instance_id")),
    )
    op.create_index(
        "ix_subscriptions_status_current_period_end",
        "subscriptions",
        ["status", "current_period_end"],
        unique=False,
    )
    op.create_index(
        "ix_subscriptions_status_trial_end",
        "subscriptions",
        ["status", "trial_end"],
        unique=False,
    )
    op.create_table(
        "tenant_migrations",
        sa.Column("run_id", sa.Uuid(), nullable=False),
        sa.Column("instance_id", sa.Uuid(), nullable=False),
        sa.Column("from_revision", sa.String(length=64), nullable=True),
        sa.Column("to_revision", sa.String(length=64), nullable=True),
        sa.Column(
            "status",
            sa.Enum(
                "RUNNING",
                "SUCCEEDED",
                "FAILED",
                "SKIPPED",
                name="tenant_migration_status",
                native_enum=False,
                create_constraint=True,
            ),
            nullable=False,
        ),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column(
            "started_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("duration_ms", sa.Integer(), nullable=True),
        sa.Column("id", sa.BigInteger(), autoincrement=True, nullable=False),
        sa.CheckConstraint(
            "duration_ms IS NULL OR duration_ms >= 0",
            name=op.f("ck_tenant_migrations_duration_non_negative"),
        ),
        sa.CheckConstraint(
            "finished_at IS NULL OR finished_at >= started_at",
            name=op.f("ck_tenant_migrations_finished_after_start"),
        ),
        sa.ForeignKeyConstraint(
            ["instance_id"],
            ["instances.id"],
            name=op.f("fk_tenant_migrations_instance_id_instances"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_tenant_migrations")),
        sa.UniqueConstraint(
            "run_id",
            "instance_id",
            name=op.f("uq_tenant_migrations_run_id_instance_id"),
        ),
    )
    op.create_index(
        "ix_tenant_migrations_instance_id_started_at",
        "tenant_migrations",
        ["instance_id", "started_at"],
        unique=False,
    )
    op.create_index("ix_tenant_migrations_status", "tenant_migrations", ["status"], unique=False)
    op.create_table(
        "bank_transactions",
        sa.Column(
            "provider",
            sa.Enum(
                "SEPAY",
                "CASSO",
                name="bank_provider",
                native_enum=False,
                create_constraint=True,
            ),
            nullable=False,
        ),
        sa.Column("provider_transaction_id", sa.String(length=128), nullable=False),
        sa.Column(
            "instance_id",
            sa.Uuid(),
            nullable=True,
            comment="set for an instance's own webhook",
        ),
        sa.Column("account_number", sa.String(length=32), nullable=True),
        sa.Column(
            "direction",
            sa.Enum("in", "out", name="transfer_direction", native_enum=False, create_constraint=True),
            nullable=False,
            comment="only 'in' can pay an order",
        ),
        sa.Column("amount", sa.BigInteger(), nullable=False, comment="VND, integer, never negative"),
        sa.Column("content", sa.Text(), nullable=True),
        sa.Column("reference_code", sa.String(length=128), nullable=True),
        sa.Column("transaction_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("raw_payload", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column(
            "status",
            sa.Enum(
                "RECEIVED",
                "MATCHED",
                "NEEDS_REVIEW",
                "IGNORED",
                "RESOLVED",
                name="bank_transaction_status",
                native_enum=False,
                create_constraint=True,
            ),
            server_default="RECEIVED",
            nullable=False,
        ),
        sa.Column("payment_order_id", sa.Uuid(), nullable=True),
        sa.Column("review_reason", sa.Text(), nullable=True),
        sa.Column(
            "received_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column("resolved_by", sa.Uuid(), nullable=True),
        sa.Column("resolved_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("id", sa.Uuid(), server_default=sa.text("gen_random_uuid()"), nullable=False),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column(
            "updated_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column("version", sa.Integer(), server_default=sa.text("1"), nullable=False),
        sa.CheckConstraint("amount >= 0", name=op.f("ck_bank_transactions_amount_non_negative")),
        sa.ForeignKeyConstraint(
            ["instance_id"],
            ["instances.id"],
            name=op.f("fk_bank_transactions_instance_id_instances"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["payment_order_id"],
            ["payment_orders.id"],
            name=op.f("fk_bank_transactions_payment_order_id_payment_orders"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["resolved_by"],
            ["accounts.id"],
            name=op.f("fk_bank_transactions_resolved_by_accounts"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_bank_transactions")),
        sa.UniqueConstraint(
            "provider",
            "provider_transaction_id",
            name=op.f("uq_bank_transactions_provider_provider_transaction_id"),
        ),
    )
    op.create_index("ix_bank_transactions_instance_id", "bank_transactions", ["instance_id"], unique=False)
    op.create_index(
        "ix_bank_transactions_payment_order_id",
        "bank_transactions",
        ["payment_order_id"],
        unique=False,
    )
    op.create_index(
        "ix_bank_transactions_status_received_at",
        "bank_transactions",
        ["status", "received_at"],
        unique=False,
    )
    op.create_table(
        "subscription_history",
        sa.Column("subscription_id", sa.Uuid(), nullable=False),
        sa.Column(
            "event",
            sa.String(length=64),
            nullable=False,
            comment="created, paid, renewed, tier_changed, canceled, ...",
        ),
        sa.Column(
            "from_status",
            sa.Enum(
                "TRIAL",
                "ACTIVE",
                "PAST_DUE",
                "EXPIRED",
                "CANCELED",
                name="subscription_history_from_status",
                native_enum=False,
                create_constraint=True,
            ),
            nullable=True,
        ),
        sa.Column(
            "to_status",
            sa.Enum(
                "TRIAL",
                "ACTIVE",
                "PAST_DUE",
                "EXPIRED",
                "CANCELED",
                name="subscription_history_to_status",
                native_enum=False,
                create_constraint=True,
            ),
            nullable=False,
        ),
        sa.Column("from_tier_code", sa.String(length=32), nullable=True),
        sa.Column("to_tier_code", sa.String(length=32), nullable=True),
        sa.Column("actor_id", sa.Uuid(), nullable=True),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.Column("payment_order_id", sa.Uuid(), nullable=True),
        sa.Column(
            "details",
            postgresql.JSONB(astext_type=sa.Text()),
            server_default=sa.text("'{}'::jsonb"),
            nullable=False,
        ),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column("id", sa.BigInteger(), autoincrement=True, nullable=False),
        sa.ForeignKeyConstraint(
            ["actor_id"],
            ["accounts.id"],
            name=op.f("fk_subscription_history_actor_id_accounts"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["payment_order_id"],
            ["payment_orders.id"],
            name=op.f("fk_subscription_history_payment_order_id_payment_orders"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["subscription_id"],
            ["subscriptions.id"],
            name=op.f("fk_subscription_history_subscription_id_subscriptions"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_subscription_history")),
    )
    op.create_index(
        "ix_subscription_history_subscription_id_created_at",
        "subscription_history",
        ["subscription_id", "created_at"],
        unique=False,
    )
    op.create_table(
        "payment_order_events",
        sa.Column("payment_order_id", sa.Uuid(), nullable=False),
        sa.Column(
            "from_status",
            sa.Enum(
                "PENDING",
                "PAID",
                "EXPIRED",
                "CANCELLED",
                name="payment_order_event_from_status",
                native_enum=False,
                create_constraint=True,
            ),
            nullable=True,
        ),
        sa.Column(
            "to_status",
            sa.Enum(
                "PENDING",
                "PAID",
                "EXPIRED",
                "CANCELLED",
                name="payment_order_event_to_status",
                native_enum=False,
                create_constraint=True,
            ),
            nullable=False,
        ),
        sa.Column("actor_id", sa.Uuid(), nullable=True),
        sa.Column("bank_transaction_id", sa.Uuid(), nullable=True),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column("id", sa.BigInteger(), autoincrement=True, nullable=False),
        sa.ForeignKeyConstraint(
            ["actor_id"],
            ["accounts.id"],
            name=op.f("fk_payment_order_events_actor_id_accounts"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["bank_transaction_id"],
            ["bank_transactions.id"],
            name=op.f("fk_payment_order_events_bank_transaction_id_bank_transactions"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["payment_order_id"],
            ["payment_orders.id"],
            name=op.f("fk_payment_order_events_payment_order_id_payment_orders"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_payment_order_events")),
    )
    op.create_index(
        "ix_payment_order_events_payment_order_id_created_at",
        "payment_order_events",
        ["payment_order_id", "created_at"],
        unique=False,
    )


def downgrade() -> None:
    op.drop_index(
        "ix_payment_order_events_payment_order_id_created_at",
        table_name="payment_order_events",
    )
    op.drop_table("payment_order_events")
    op.drop_index(
        "ix_subscription_history_subscription_id_created_at",
        table_name="subscription_history",
    )
    op.drop_table("subscription_history")
    op.drop_index("ix_bank_transactions_status_received_at", table_name="bank_transactions")
    op.drop_index("ix_bank_transactions_instance_id", table_name="bank_transactions")
    op.drop_index("ix_bank_transactions_payment_order_id", table_name="bank_transactions")
    op.drop_table("bank_transactions")
    op.drop_index("ix_tenant_migrations_status", table_name="tenant_migrations")
    op.drop_index("ix_tenant_migrations_instance_id_started_at", table_name="tenant_migrations")
    op.drop_table("tenant_migrations")
    op.drop_index("ix_subscriptions_status_trial_end", table_name="subscriptions")
    op.drop_index("ix_subscriptions_status_current_period_end", table_name="subscriptions")
    op.drop_table("subscriptions")
    op.drop_table("storage_usage")
    op.drop_index("ix_storage_events_instance_id_created_at", table_name="storage_events")
    op.drop_table("storage_events")
    op.drop_index(
        "uq_payment_orders_created_by_idempotency_key",
        table_name="payment_orders",
        postgresql_where=sa.text("idempotency_key IS NOT NULL"),
    )
    op.drop_index("ix_payment_orders_status_expires_at", table_name="payment_orders")
    op.drop_index("ix_payment_orders_instance_id_created_at", table_name="payment_orders")
    op.drop_table("payment_orders")
    op.drop_index("ix_instance_events_instance_id_created_at", table_name="instance_events")
    op.drop_table("instance_events")
    op.drop_index("ix_branding_jobs_status", table_name="branding_jobs")
    op.drop_index("ix_branding_jobs_instance_id_created_at", table_name="branding_jobs")
    op.drop_table("branding_jobs")
    op.drop_table("settings")
    op.drop_index(
        "uq_instances_subdomain_live",
        table_name="instances",
        postgresql_where=sa.text("deleted_at IS NULL"),
    )
    op.drop_index(
        "uq_instances_custom_domain_verified",
        table_name="instances",
        postgresql_where=sa.text("deleted_at IS NULL AND custom_domain_verified_at IS NOT NULL"),
    )
    op.drop_index("ix_instances_status", table_name="instances")
    op.drop_index("ix_instances_owner_id", table_name="instances")
    op.drop_index("ix_instances_database_server_id", table_name="instances")
    op.drop_table("instances")
    op.drop_index("ix_audit_log_target_type_target_id_occurred_at", table_name="audit_log")
    op.drop_index("ix_audit_log_occurred_at", table_name="audit_log")
    op.drop_index("ix_audit_log_actor_id_occurred_at", table_name="audit_log")
    op.drop_index("ix_audit_log_action_occurred_at", table_name="audit_log")
    op.drop_table("audit_log")
    op.drop_table("tiers")
    op.drop_index(
        "uq_database_servers_name_live",
        table_name="database_servers",
        postgresql_where=sa.text("deleted_at IS NULL"),
    )
    op.drop_table("database_servers")
    op.drop_index(
        "uq_accounts_email_live",
        table_name="accounts",
        postgresql_where=sa.text("deleted_at IS NULL"),
    )
    op.drop_table("accounts")
