"""Writes a batch sends together: each statement once, with every row's parameters (one pipelined
round trip per statement), instead of once per row.

Why: settling a batch of bank deliveries pays several orders in one transaction. Each payment is
two statements (the order and its event, the subscription and its history); sent one by one they
were most of a batch's time, waiting on the round trip. The rules still run payment by payment,
against objects brought up to date at once, so a later payment in the batch sees an earlier one;
only the sending waits until ``flush``.

A writer that can defer asks ``deferred_writes(session)``: while a batch holds the session in
``deferring``, it gets the collector; otherwise None, and it writes at once as before. A read
that must see earlier writes of the batch calls ``flush_deferred`` first. What a
writer would have read from a statement's result it registers with ``check`` instead: after the
flush, each check runs once with every item registered for it, in the same transaction; a check
that raises fails the block, and the transaction's owner rolls it back. A write that must follow
every other write of the batch (``supersede_upgrades``) is registered the same way.

Only writes to the same row keep their order; a deferred statement must not read rows another
deferred statement writes (history rows of different subscriptions may get ids out of order).
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable, Hashable
from contextlib import asynccontextmanager
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

_KEY = "kitehub.deferred_writes"
Check = Callable[[AsyncSession, list[Any]], Awaitable[None]]


class DeferredWrites:
    """Statements and their rows, sent so that the writes to one row keep their order.

    A write is filed under how many writes to the same ``row`` came before it (its round): round
    0 is sent first, statement by statement, then round 1, and so on. Within a round no row is
    written twice, so its statements may go in any order; two changes to one subscription in one
    batch land in two rounds, in the order they were made.
    """

    def __init__(self) -> None:
        self._rounds: list[dict[int, tuple[Any, list[dict[str, Any]]]]] = []
        self._writes_to: dict[Hashable, int] = {}
        self._checks: dict[Check, list[Any]] = {}

    def add(self, statement: Any, parameters: dict[str, Any], *, row: Hashable) -> None:
        """Send ``statement`` with ``parameters`` at the flush; ``row``: what it writes (e.g. the
        table and the row's id), so that writes to the same row stay in order."""
        position = self._writes_to.get(row, 0)
        self._writes_to[row] = position + 1
        if position == len(self._rounds):
            self._rounds.append({})
        self._rounds[position].setdefault(id(statement), (statement, []))[1].append(parameters)

    def check(self, check: Check, item: Any) -> None:
        """Run ``check(session, items)`` after the flush, ``item`` among its items."""
        self._checks.setdefault(check, []).append(item)

    async def flush(self, session: AsyncSession) -> None:
        """Send every deferred write, round by round, then run the checks."""
        rounds, self._rounds, self._writes_to = self._rounds, [], {}
        checks, self._checks = self._checks, {}
        for statements in rounds:
            for statement, parameters in statements.values():
                await session.execute(statement, parameters)
        for check, items in checks.items():
            await check(session, items)


def deferred_writes(session: AsyncSession) -> DeferredWrites | None:
    """The batch's collector when the session is in ``deferring``, else None (write at once)."""
    writes: DeferredWrites | None = session.info.get(_KEY)
    return writes


async def flush_deferred(session: AsyncSession) -> None:
    """Send what is deferred now: for a read whose answer depends on writes made before it (what
    the ORM's autoflush does for its own objects)."""
    if (writes := deferred_writes(session)) is not None:
        await writes.flush(session)


@asynccontextmanager
async def deferring(session: AsyncSession) -> AsyncIterator[DeferredWrites]:
    """Collect deferrable writes made through ``session`` and send them when the block ends."""
    if _KEY in session.info:
        raise RuntimeError("writes are already being deferred on this session")
    writes = DeferredWrites()
    session.info[_KEY] = writes
    try:
        yield writes
        await writes.flush(session)
    finally:
        del session.info[_KEY]
