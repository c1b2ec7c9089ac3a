"""Lists of tenant resources: a whitelisted sort, one row or 404, a write or 409 (pages:
``kitehub.pagination.page``)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar

from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import InstrumentedAttribute

from kitehub.errors import ConflictError, InvalidInputError, NotFoundError


def ordering(sort: str | None, columns: Mapping[str, InstrumentedAttribute[Any]], default: str) -> list[Any]:
    """``name`` ascending or ``-name`` descending, only on listed columns; ties broken by id."""
    key = (sort or default).strip()
    descending = key.startswith("-")
    column = columns.get(key.removeprefix("-"))
    if column is None:
        allowed = ", ".join(sorted(columns))
        raise InvalidInputError(
            f"sort must be one of {allowed} (prefix '-' for descending)",
            extra={"errors": [{"field": "sort", "message": "unknown sort key", "source": "query"}]},
        )
    identity = column.class_.id
    return [column.desc(), identity.desc()] if descending else [column.asc(), identity.asc()]


Model = TypeVar("Model")


async def row_or_404(
    session: AsyncSession, model: type[Model], row_id: object, what: str, *, for_update: bool = False
) -> Model:
    """The row (locked for the rest of the transaction when asked), or 404; soft-deleted rows are gone."""
    row = await session.get(model, row_id, with_for_update=for_update, populate_existing=for_update)
    if row is None or getattr(row, "deleted_at", None) is not None:
        raise NotFoundError(f"no such {what}")
    return row


async def flush_or_conflict(session: AsyncSession, message: str, *, field: str | None = None) -> None:
    """Write pending rows now; a unique constraint they break is the caller's 409, not a 500."""
    try:
        await session.flush()
    except IntegrityError as exc:
        raise ConflictError(message, extra={"field": field} if field else None) from exc
