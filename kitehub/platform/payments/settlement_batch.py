"""Group commit for bank deliveries: the deliveries waiting in one process are recorded and settled
together, in one transaction, and each webhook is answered once its batch has committed.

Why: a bank delivery is small, and one transaction per delivery spent most of its time on
transaction overhead (BEGIN, COMMIT, a WAL flush, a dozen round trips, for a repeat as much as for
a payment). A batch pays that once for all the deliveries that arrived while the previous batch
was being written, so the busier the webhook, the cheaper each delivery. Nothing changes for the
bank: a 200 still means the delivery is stored and settled.

Exactly once still rests on the unique index of ``bank_transactions`` (``RECORD`` inserts every
delivery of the batch ``ON CONFLICT DO NOTHING``; a copy already stored, or a second copy in the
same batch, gets no row and is a repeat). The orders all new deliveries name are locked in one
statement, in (instance, order code) order, so batches of different processes cannot deadlock.
When a batch fails, its deliveries are settled again one by one (``receive``), so one bad delivery
costs the others nothing but time.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from kitehub.deferred_writes import deferring
from kitehub.logs import get_logger
from kitehub.platform.payments.models import PaymentOrder, PaymentOrderType
from kitehub.platform.payments.orders import ReceivingAccount
from kitehub.platform.payments.settlement import (
    OUTCOME,
    RECORD,
    Delivery,
    Outcome,
    orders_by_code,
    outcome_parameters,
    receive,
    record_parameters,
    screen,
    settle_with,
)
from kitehub.platform.subscriptions.models import Subscription

logger = get_logger(__name__)
MAX_BATCH = 64  # deliveries per transaction: bounds the time row locks are held
_ANY_ORDERS = orders_by_code(None, of_instance=False)


@dataclass(frozen=True, slots=True)
class Received:
    """A delivery for an account: the platform's (``instance_id`` None) or a school's own."""

    delivery: Delivery
    account: ReceivingAccount | None
    instance_id: uuid.UUID | None = None

    def may_pay(self, order: PaymentOrder) -> bool:
        """The platform's account pays subscriptions; a school's account, its own enrollments."""
        if self.instance_id is None:
            return order.type is PaymentOrderType.SUBSCRIPTION
        return order.type is PaymentOrderType.ENROLLMENT and order.instance_id == self.instance_id


async def receive_batch(session: AsyncSession, batch: Sequence[Received], *, now: datetime) -> list[Outcome | None]:
    """``receive`` for several deliveries in the caller's transaction: each one's outcome, in
    order, None for a repeat. Deliveries are settled in the order given, as if one after another."""
    ids = [uuid.uuid4() for _ in batch]
    stored = await session.execute(
        RECORD, [record_parameters(ids[n], item.delivery, item.instance_id) for n, item in enumerate(batch)]
    )
    new = {row[0] for row in stored}
    screened = {n: screen(item.delivery, item.account) for n, item in enumerate(batch) if ids[n] in new}
    codes = sorted({code for found in screened.values() if isinstance(found, list) for code in found})
    named: dict[str, tuple[PaymentOrder, Subscription]] = {}
    if codes:
        rows = await session.execute(_ANY_ORDERS, {"codes": codes})
        named = {row[0].order_code: (row[0], row[1]) for row in rows}
    outcomes: list[Outcome | None] = [None] * len(batch)
    async with deferring(session):  # the payments' statements go together, after the rules ran for each
        for n, found in screened.items():
            if isinstance(found, Outcome):
                outcomes[n] = found
                continue
            item = batch[n]
            payable = [named[code] for code in sorted(found) if code in named and item.may_pay(named[code][0])]
            outcomes[n] = await settle_with(session, ids[n], item.delivery, payable, now=now)
    settled = [outcome_parameters(ids[n], outcome) for n, outcome in enumerate(outcomes) if outcome is not None]
    if settled:
        await session.execute(OUTCOME, settled)
    return outcomes


_Waiting = tuple[Received, "asyncio.Future[Outcome | None]"]


class SettlementBatcher:
    """One per process: collects deliveries while a batch is being written, then writes the next.

    ``receive`` returns when the delivery's transaction has committed, with what ``receive`` of
    ``settlement`` would have returned. Started on first use; ``close`` settles what is waiting.
    """

    def __init__(self, sessions: async_sessionmaker[AsyncSession], *, max_batch: int = MAX_BATCH) -> None:
        self._sessions = sessions
        self._max_batch = max_batch
        self._waiting: list[_Waiting] = []
        self._wake = asyncio.Event()
        self._runner: asyncio.Task[None] | None = None
        self._closing = False
        self.batches = 0  # transactions written, for benchmarks and tests

    async def receive(self, item: Received) -> Outcome | None:
        if self._closing:
            raise RuntimeError("the settlement batcher is closed")
        if self._runner is None or self._runner.done():
            self._runner = asyncio.create_task(self._run(), name="kitehub-settlement")
        future: asyncio.Future[Outcome | None] = asyncio.get_running_loop().create_future()
        self._waiting.append((item, future))
        self._wake.set()
        return await asyncio.shield(future)  # a caller that goes away does not take the delivery with it

    async def close(self) -> None:
        """Settle what is waiting (every caller gets its answer), then stop."""
        self._closing = True
        self._wake.set()
        if self._runner is not None:
            await self._runner

    async def _run(self) -> None:
        while not self._closing or self._waiting:
            await self._wake.wait()
            self._wake.clear()
            while self._waiting:
                batch, self._waiting = self._waiting[: self._max_batch], self._waiting[self._max_batch :]
                await self._settle(batch)

    async def _settle(self, batch: list[_Waiting]) -> None:
        items = [item for item, _ in batch]
        try:
            async with self._sessions() as session, session.begin():
                outcomes = await receive_batch(session, items, now=datetime.now(UTC))
        except Exception as exc:  # settled again one by one; each failure goes to its caller
            if len(batch) == 1:
                _resolve(batch[0][1], error=exc)
                return
            logger.warning("settlement batch of %d failed (%s); settling one by one", len(batch), type(exc).__name__)
            for item, future in batch:
                await self._settle_alone(item, future)
            return
        self.batches += 1
        for (_, future), outcome in zip(batch, outcomes, strict=True):
            _resolve(future, outcome)

    async def _settle_alone(self, item: Received, future: asyncio.Future[Outcome | None]) -> None:
        try:
            async with self._sessions() as session, session.begin():
                outcome = await receive(session, item.delivery, account=item.account, now=datetime.now(UTC),
                                        instance_id=item.instance_id)  # fmt: skip
        except Exception as exc:  # the caller answers for it (the bank retries)
            _resolve(future, error=exc)
        else:
            self.batches += 1
            _resolve(future, outcome)


def _resolve(
    future: asyncio.Future[Outcome | None], outcome: Outcome | None = None, *, error: BaseException | None = None
) -> None:
    if future.done():
        return
    if error is not None:
        future.set_exception(error)
    else:
        future.set_result(outcome)
