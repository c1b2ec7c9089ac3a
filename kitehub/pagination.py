"""Query parameters every list shares: a page is ``limit`` rows from ``offset``."""

from __future__ import annotations

from typing import Annotated

from litestar.params import QueryParameter

Limit = Annotated[int, QueryParameter(ge=1, le=200, description="page size")]
Offset = Annotated[int, QueryParameter(ge=0, le=1_000_000, description="rows to skip")]
