"""Instances: one online school, one tenant database, and every change of its state."""

from __future__ import annotations

import uuid
from datetime import datetime
from enum import StrEnum

from sqlalchemy import CheckConstraint, DateTime, ForeignKey, Index, String, Text, text
from sqlalchemy.orm import Mapped, mapped_column

from kitehub.db import PlatformBase
from kitehub.orm import (
    BigIntPrimaryKey,
    CreatedAt,
    OptimisticVersion,
    SoftDelete,
    Timestamps,
    UUIDPrimaryKey,
    str_enum,
)

SUBDOMAIN_PATTERN = r"^[a-z0-9]([a-z0-9-]{1,48}[a-z0-9])$"
# Names the platform keeps for itself (its API, docs, mail...): never a tenant.
RESERVED_SUBDOMAINS = frozenset(
    {
        "www", "api", "admin", "app", "mail", "static", "assets", "cdn", "docs", "status", "help",
        "support", "billing", "auth", "login", "dashboard", "platform", "kitehub", "smtp", "imap",
        "pop", "ftp", "ns1", "ns2", "dev", "staging", "test", "root", "system", "tenant", "media",
    }
)  # fmt: skip


class InstanceStatus(StrEnum):
    PROVISIONING = "PROVISIONING"
    READY = "READY"
    FAILED = "FAILED"
    SUSPENDED = "SUSPENDED"
    DELETED = "DELETED"
    PURGED = "PURGED"


class Instance(UUIDPrimaryKey, Timestamps, SoftDelete, OptimisticVersion, PlatformBase):
    __tablename__ = "instances"
    __table_args__ = (
        CheckConstraint(f"subdomain ~ '{SUBDOMAIN_PATTERN}'", name="subdomain_format"),
        CheckConstraint(
            "custom_domain IS NULL OR custom_domain = lower(custom_domain)",
            name="custom_domain_lower",
        ),
        CheckConstraint("bank_bin IS NULL OR bank_bin ~ '^[0-9]{6}$'", name="bank_bin_format"),
        CheckConstraint(
            "bank_account_number IS NULL OR bank_account_number ~ '^[0-9]{1,19}$'",
            name="bank_account_number_format",
        ),
        CheckConstraint(
            "(bank_bin IS NULL) = (bank_account_number IS NULL) AND (bank_bin IS NULL) = (bank_account_name IS NULL)",
            name="bank_account_complete",
        ),
        CheckConstraint(
            "(status = 'DELETED' OR status = 'PURGED') = (deleted_at IS NOT NULL)",
            name="deleted_status",
        ),
        # A live subdomain routes to exactly one instance, and so does a verified custom domain
        # (an unverified claim blocks nobody: whoever proves the domain first gets it).
        Index(
            "uq_instances_subdomain_live",
            "subdomain",
            unique=True,
            postgresql_where=text("deleted_at IS NULL"),
        ),
        Index(
            "uq_instances_custom_domain_verified",
            "custom_domain",
            unique=True,
            postgresql_where=text("deleted_at IS NULL AND custom_domain_verified_at IS NOT NULL"),
        ),
        # A tenant database and its role belong to one instance, ever (until purged).
        Index(
            "uq_instances_database_unpurged",
            "database_server_id",
            "database_name",
            unique=True,
            postgresql_where=text("status <> 'PURGED' AND database_name IS NOT NULL"),
        ),
        Index(
            "uq_instances_database_role_unpurged",
            "database_server_id",
            "database_role",
            unique=True,
            postgresql_where=text("status <> 'PURGED' AND database_role IS NOT NULL"),
        ),
        CheckConstraint(
            "status NOT IN ('READY', 'SUSPENDED') OR (database_server_id IS NOT NULL AND database_name IS NOT NULL"
            " AND database_role IS NOT NULL AND database_password_encrypted IS NOT NULL)",
            name="ready_has_database",
        ),
        CheckConstraint(
            "database_password_encrypted IS NULL OR database_password_encrypted ~ '^v1:[A-Za-z0-9_-]+:[A-Za-z0-9_-]+$'",
            name="password_is_ciphertext",
        ),
        CheckConstraint(
            "webhook_key_hash IS NULL OR webhook_key_hash ~ '^[0-9a-f]{64}$'", name="webhook_key_hash_format"
        ),
        Index("ix_instances_owner_id", "owner_id"),
        Index("ix_instances_status", "status"),
        Index("ix_instances_database_server_id", "database_server_id"),
    )

    subdomain: Mapped[str] = mapped_column(String(50))
    custom_domain: Mapped[str | None] = mapped_column(String(253))
    custom_domain_verified_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    custom_domain_token: Mapped[str | None] = mapped_column(
        String(64), comment="value of the _kitehub.<domain> TXT record proving the domain (public by design)"
    )
    organization_name: Mapped[str] = mapped_column(String(200))
    owner_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("accounts.id", ondelete="RESTRICT"))
    status: Mapped[InstanceStatus] = mapped_column(
        str_enum(InstanceStatus, "instance_status"),
        server_default=InstanceStatus.PROVISIONING.value,
    )
    status_reason: Mapped[str | None] = mapped_column(Text, comment="why FAILED or SUSPENDED, for people")

    # Where this school's money goes (enrollment payments); all three or none.
    bank_bin: Mapped[str | None] = mapped_column(String(6))
    bank_account_number: Mapped[str | None] = mapped_column(String(19))
    bank_account_name: Mapped[str | None] = mapped_column(String(100))
    qr_template: Mapped[str | None] = mapped_column(String(100), comment="e.g. 'HOCPHI {courseId} {studentName}'")
    webhook_key_hash: Mapped[str | None] = mapped_column(
        String(64), comment="sha256 of the instance's own bank-webhook key (the key is shown once)"
    )

    # The tenant database; the password is AES-GCM ciphertext (v1:<kid>:<...>), never plain text.
    database_server_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("database_servers.id", ondelete="RESTRICT"))
    database_name: Mapped[str | None] = mapped_column(String(63))
    database_role: Mapped[str | None] = mapped_column(String(63))
    database_password_encrypted: Mapped[str | None] = mapped_column(Text)
    schema_revision: Mapped[str | None] = mapped_column(String(64))
    provisioned_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class InstanceEvent(BigIntPrimaryKey, CreatedAt, PlatformBase):
    """One row per status change of an instance, written in the same transaction as the change."""

    __tablename__ = "instance_events"
    __table_args__ = (Index("ix_instance_events_instance_id_created_at", "instance_id", "created_at"),)

    instance_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("instances.id", ondelete="RESTRICT"))
    from_status: Mapped[InstanceStatus | None] = mapped_column(str_enum(InstanceStatus, "instance_event_from_status"))
    to_status: Mapped[InstanceStatus] = mapped_column(str_enum(InstanceStatus, "instance_event_to_status"))
    actor_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("accounts.id", ondelete="SET NULL"))
    reason: Mapped[str | None] = mapped_column(Text)
