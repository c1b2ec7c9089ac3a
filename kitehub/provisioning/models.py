"""Provisioning's rows in the platform database: PostgreSQL servers and the migration ledger."""

from __future__ import annotations

import uuid
from datetime import datetime
from enum import StrEnum

from sqlalchemy import (
    CheckConstraint,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column

from kitehub.db import PlatformBase
from kitehub.orm import (
    BigIntPrimaryKey,
    OptimisticVersion,
    SoftDelete,
    Timestamps,
    UUIDPrimaryKey,
    str_enum,
)


class DatabaseServerStatus(StrEnum):
    ACTIVE = "active"
    DRAINING = "draining"


class DatabaseServer(UUIDPrimaryKey, Timestamps, SoftDelete, OptimisticVersion, PlatformBase):
    """A PostgreSQL server that holds tenant databases; its admin password is encrypted."""

    __tablename__ = "database_servers"
    __table_args__ = (
        Index(
            "uq_database_servers_name_live",
            "name",
            unique=True,
            postgresql_where=text("deleted_at IS NULL"),
        ),
        CheckConstraint("max_tenants > 0", name="max_tenants_positive"),
        CheckConstraint("port BETWEEN 1 AND 65535", name="port_range"),
        CheckConstraint("name ~ '^[a-z0-9][a-z0-9_-]{0,62}$'", name="name_format"),
        CheckConstraint(
            "admin_password_encrypted IS NULL OR admin_password_encrypted ~ '^v1:[A-Za-z0-9_-]+:[A-Za-z0-9_-]+$'",
            name="password_is_ciphertext",
        ),
    )

    name: Mapped[str] = mapped_column(String(63))
    host: Mapped[str] = mapped_column(String(255), comment="host name, IP, or Unix socket directory")
    port: Mapped[int] = mapped_column(Integer, server_default=text("5432"))
    admin_username: Mapped[str] = mapped_column(String(63))
    admin_password_encrypted: Mapped[str | None] = mapped_column(Text, comment="v1:<kid>:<...>, null for trust/peer")
    maintenance_database: Mapped[str] = mapped_column(String(63), server_default=text("'postgres'"))
    max_tenants: Mapped[int] = mapped_column(Integer, server_default=text("500"))
    status: Mapped[DatabaseServerStatus] = mapped_column(
        str_enum(DatabaseServerStatus, "database_server_status"),
        server_default=DatabaseServerStatus.ACTIVE.value,
    )


class TenantMigrationStatus(StrEnum):
    RUNNING = "RUNNING"
    SUCCEEDED = "SUCCEEDED"
    FAILED = "FAILED"
    SKIPPED = "SKIPPED"


class TenantMigration(BigIntPrimaryKey, PlatformBase):
    """The ledger of the fleet migration runner: one row per attempt on one tenant database."""

    __tablename__ = "tenant_migrations"
    __table_args__ = (
        CheckConstraint("duration_ms IS NULL OR duration_ms >= 0", name="duration_non_negative"),
        CheckConstraint(
            "finished_at IS NULL OR finished_at >= started_at",
            name="finished_after_start",
        ),
        UniqueConstraint("run_id", "instance_id"),
        Index("ix_tenant_migrations_instance_id_started_at", "instance_id", "started_at"),
        Index("ix_tenant_migrations_status", "status"),
    )

    run_id: Mapped[uuid.UUID] = mapped_column()
    instance_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("instances.id", ondelete="RESTRICT"))
    from_revision: Mapped[str | None] = mapped_column(String(64))
    to_revision: Mapped[str | None] = mapped_column(String(64))
    status: Mapped[TenantMigrationStatus] = mapped_column(str_enum(TenantMigrationStatus, "tenant_migration_status"))
    error: Mapped[str | None] = mapped_column(Text)
    started_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=text("now()"))
    finished_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    duration_ms: Mapped[int | None] = mapped_column(Integer)


class ProvisioningStepStatus(StrEnum):
    DONE = "DONE"
    FAILED = "FAILED"


class ProvisioningStep(PlatformBase):
    """The provisioner's ledger: which step of which instance ran, and how it ended.

    A retry skips DONE steps and re-runs the rest; every step is written to be safe to repeat.
    """

    __tablename__ = "provisioning_steps"
    __table_args__ = (CheckConstraint("attempts >= 1", name="attempts_positive"),)

    instance_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("instances.id", ondelete="RESTRICT"), primary_key=True)
    step: Mapped[str] = mapped_column(String(32), primary_key=True)
    status: Mapped[ProvisioningStepStatus] = mapped_column(str_enum(ProvisioningStepStatus, "provisioning_step_status"))
    attempts: Mapped[int] = mapped_column(Integer, server_default=text("1"), default=1)
    error: Mapped[str | None] = mapped_column(Text)
    started_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=text("now()"))
    finished_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
