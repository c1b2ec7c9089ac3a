"""Declarative building blocks shared by the platform and the tenant metadata.

The two schemas live on separate ``MetaData`` objects (separate alembic trees, separate
databases) but follow one convention: deterministic constraint names, so that every revision can
name what its downgrade drops; ``timestamptz`` everywhere; enums stored as text with a CHECK
constraint, because a PostgreSQL enum type cannot lose a value and fights transactional DDL.
"""

from __future__ import annotations

import enum
import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import BigInteger, DateTime, Enum, Integer, MetaData, func, text
from sqlalchemy.orm import Mapped, declared_attr, mapped_column

NAMING_CONVENTION: dict[str, str] = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


def new_metadata() -> MetaData:
    return MetaData(naming_convention=NAMING_CONVENTION)


def utc_now_default() -> Any:
    return func.now()


def str_enum(enum_cls: type[enum.StrEnum], name: str) -> Enum:
    """A text column constrained to the enum's values (not a native PostgreSQL enum type)."""
    return Enum(
        enum_cls,
        name=name,
        native_enum=False,
        create_constraint=True,
        length=max(len(member.value) for member in enum_cls),
        values_callable=lambda members: [member.value for member in members],
        validate_strings=True,
    )


class UUIDPrimaryKey:
    id: Mapped[uuid.UUID] = mapped_column(
        primary_key=True, default=uuid.uuid4, server_default=text("gen_random_uuid()")
    )


class BigIntPrimaryKey:
    """For append-only history rows, where insertion order is the natural key."""

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=True)


class Timestamps:
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    updated_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.now(), onupdate=func.now()
    )


class CreatedAt:
    """For append-only rows (history, events): written once, never updated."""

    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())


class SoftDelete:
    """Rows that users delete stay for the audit trail; live rows have ``deleted_at IS NULL``."""

    deleted_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class OptimisticVersion:
    """A ``version`` column SQLAlchemy bumps on every UPDATE and checks in its WHERE clause.

    Two writers that read the same row cannot both commit a change: the second gets
    ``StaleDataError`` instead of silently overwriting the first.
    """

    version: Mapped[int] = mapped_column(Integer, server_default=text("1"), default=1)

    @declared_attr.directive
    def __mapper_args__(cls) -> dict[str, Any]:  # noqa: N805 - declared_attr receives the class
        return {"version_id_col": cls.__table__.c.version}  # type: ignore[attr-defined]
