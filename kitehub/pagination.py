"""What every list shares, platform and tenant alike: a page is ``limit`` rows from ``offset``,
with the total of the filtered rows."""

from __future__ import annotations

from typing import Annotated, Any, TypeVar

from litestar.params import QueryParameter
from sqlalchemy import Select, func, select
from sqlalchemy.ext.asyncio import AsyncSession

Row = TypeVar("Row")

Limit = Annotated[int, QueryParameter(ge=1, le=200, description="page size")]
Offset = Annotated[int, QueryParameter(ge=0, le=1_000_000, description="rows to skip")]


async def page(
    session: AsyncSession, query: Select[Row], order_by: list[Any], *, limit: int, offset: int
) -> tuple[list[Row], int]:
    """``limit`` rows of ``query`` from ``offset`` in ``order_by``'s order, and the total."""
    total = await session.scalar(select(func.count()).select_from(query.order_by(None).subquery()))
    rows = await session.scalars(query.order_by(*order_by).limit(limit).offset(offset))
    return list(rows), int(total or 0)
