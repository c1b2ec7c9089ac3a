"""Deferred writes: sent together at the end of the block, writes to one row in the order made,
and a check that fails makes the block fail (its transaction's owner then rolls it back)."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import text
from sqlalchemy.engine import URL
from sqlalchemy.ext.asyncio import AsyncSession

from kitehub.db import create_platform_engine, session_factory
from kitehub.deferred_writes import deferred_writes, deferring, flush_deferred

SET = text("UPDATE deferred_test SET value = :value, log = log || CAST(:logged AS int) WHERE id = :id")
ADD = text("UPDATE deferred_test SET value = value + :value, log = log || CAST(:logged AS int) WHERE id = :id")


async def _rows(session: AsyncSession) -> dict[int, tuple[int, list[int]]]:
    result = await session.execute(text("SELECT id, value, log FROM deferred_test ORDER BY id"))
    return {row.id: (row.value, list(row.log)) for row in result}


async def _with_table(platform_url: URL, body: Any) -> None:
    engine = create_platform_engine(platform_url, pool_size=1)
    try:
        async with session_factory(engine)() as session, session.begin():
            await session.execute(text("CREATE TEMP TABLE deferred_test (id int PRIMARY KEY, value int, log int[])"))
            await session.execute(text("INSERT INTO deferred_test VALUES (1, 0, '{}'), (2, 0, '{}')"))
            await body(session)
    finally:
        await engine.dispose()


async def test_writes_wait_for_the_end_and_keep_their_order_per_row(platform_url: URL) -> None:
    async def body(session: AsyncSession) -> None:
        async with deferring(session) as writes:
            assert deferred_writes(session) is writes
            writes.add(SET, {"id": 1, "value": 5, "logged": 5}, row=1)
            writes.add(ADD, {"id": 1, "value": 2, "logged": 2}, row=1)
            writes.add(SET, {"id": 2, "value": 7, "logged": 7}, row=2)
            writes.add(SET, {"id": 1, "value": 9, "logged": 9}, row=1)  # the same statement as the first, later
            assert await _rows(session) == {1: (0, []), 2: (0, [])}  # nothing sent yet
        assert deferred_writes(session) is None
        assert await _rows(session) == {1: (9, [5, 2, 9]), 2: (7, [7])}

    await _with_table(platform_url, body)


async def test_a_read_can_ask_for_the_writes_before_it(platform_url: URL) -> None:
    async def body(session: AsyncSession) -> None:
        async with deferring(session) as writes:
            writes.add(SET, {"id": 2, "value": 3, "logged": 3}, row=2)
            await flush_deferred(session)
            assert await _rows(session) == {1: (0, []), 2: (3, [3])}

    await _with_table(platform_url, body)


async def test_checks_see_every_item_and_a_failed_one_fails_the_block(platform_url: URL) -> None:
    seen: list[list[int]] = []

    async def expect_value(session: AsyncSession, ids: list[int]) -> None:
        seen.append(ids)
        values = await session.execute(text("SELECT value FROM deferred_test WHERE id = ANY(:ids)"), {"ids": ids})
        if any(value != 4 for (value,) in values):
            raise RuntimeError("a write did not land")

    async def body(session: AsyncSession) -> None:
        async with deferring(session) as writes:
            for row in (1, 2):
                writes.add(SET, {"id": row, "value": 4, "logged": 4}, row=row)
                writes.check(expect_value, row)
        assert seen == [[1, 2]]  # one call for all items
        failing = deferring(session)
        writes = await failing.__aenter__()
        writes.add(SET, {"id": 1, "value": 8, "logged": 8}, row=1)
        writes.check(expect_value, 1)
        with pytest.raises(RuntimeError, match="did not land"):
            await failing.__aexit__(None, None, None)
        assert deferred_writes(session) is None

    await _with_table(platform_url, body)
