"""Group commit for bank deliveries: the deliveries waiting in one process are recorded and settled
together, in one transaction, and each webhook is answered once its batch has committed.

Why: a bank delivery is small, and one transaction per delivery spent most of its time on
transaction overhead (BEGIN, COMMIT, a WAL flush, a dozen round trips, for a repeat as much as for
a payment). A batch pays that once for all the deliveries that arrived while the previous batch
was being written, so the busier the webhook, the cheaper each delivery. Nothing changes for the
bank: a 200 still means the delivery is stored and settled.

Exactly once still rests on the unique index of ``bank_transactions`` (``RECORD`` inserts every
delivery of the batch ``ON CONFLICT DO NOTHING``; a copy already stored, or a second copy in the
same batch, gets no row and is a repeat). Batches of different processes must not wait for each
other in a circle: deliveries are inserted in the index's key order, and the orders they name are
locked the way every payment path locks them (``order_locks``). Each delivery is settled as of
its arrival (an order that expired while the delivery waited for its batch is still paid).
When a batch fails, its deliveries are settled again one by one (``receive``), so one bad delivery
costs the others nothing but time.
"""

from __future__ import annotations

import asyncio
import contextlib
import contextvars
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime

from sqlalchemy.exc import DBAPIError, InterfaceError
from sqlalchemy.exc import TimeoutError as SQLAlchemyTimeoutError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from kitehub.deferred_writes import deferring
from kitehub.errors import ServiceUnavailableError
from kitehub.instance_changes import forget_committed
from kitehub.logs import get_logger
from kitehub.platform.payments.models import BankProvider, PaymentOrder, PaymentOrderType
from kitehub.platform.payments.order_locks import lock_named_orders
from kitehub.platform.payments.orders import ReceivingAccount
from kitehub.platform.payments.settlement import (
    OUTCOME,
    RECORD,
    Delivery,
    Outcome,
    outcome_parameters,
    payable_type,
    receive,
    record_parameters,
    screen,
    settle_with,
)

logger = get_logger(__name__)
MAX_BATCH = 64  # deliveries per transaction: bounds the time row locks are held
MAX_WAITING = 16 * MAX_BATCH  # beyond this the webhook answers 503 (the bank retries later)
CLOSE_TIMEOUT_SECONDS = 30.0
_NO_INSTANCE = uuid.UUID(int=0)  # the platform's account, as the unique index sees it


@dataclass(frozen=True, slots=True)
class Received:
    """A delivery for an account: the platform's (``instance_id`` None) or a school's own."""

    delivery: Delivery
    account: ReceivingAccount | None
    instance_id: uuid.UUID | None = None
    received_at: datetime = field(default_factory=lambda: datetime.now(UTC))  # settled as of then

    def key(self) -> tuple[BankProvider, uuid.UUID, str]:
        """The unique index's key: two copies of one transfer have the same."""
        return self.delivery.provider, self.instance_id or _NO_INSTANCE, self.delivery.transaction_id

    def may_pay(self, order: PaymentOrder) -> bool:
        """``payable_type``, and a school's account pays only its own school's orders."""
        return order.type is payable_type(self.instance_id) and self.instance_id in (None, order.instance_id)


async def receive_batch(session: AsyncSession, batch: Sequence[Received]) -> list[Outcome | None]:
    """``receive`` for several deliveries in the caller's transaction: each one's outcome, in
    order, None for a repeat. Deliveries are settled in the order given, as if one after another,
    each as of its arrival."""
    ids = [uuid.uuid4() for _ in batch]
    # rows are inserted in key order: an insert waits on another transaction's uncommitted copy,
    # so two batches taking copies in opposite orders would wait for each other
    in_key_order = sorted(range(len(batch)), key=lambda n: batch[n].key())  # stable: the first copy wins
    stored = await session.execute(
        RECORD, [record_parameters(ids[n], batch[n].delivery, batch[n].instance_id) for n in in_key_order]
    )
    new = {row[0] for row in stored}
    screened = {n: screen(item.delivery, item.account) for n, item in enumerate(batch) if ids[n] in new}
    codes = {code for found in screened.values() if isinstance(found, list) for code in found}
    named = await lock_named_orders(session, codes, order_type=_payable_type(batch))
    outcomes: list[Outcome | None] = [None] * len(batch)
    async with deferring(session):  # the payments' statements go together, after the rules ran for each
        for n, found in screened.items():
            if isinstance(found, Outcome):
                outcomes[n] = found
                continue
            item = batch[n]
            payable = [named[code] for code in sorted(found) if code in named and item.may_pay(named[code][0])]
            outcomes[n] = await settle_with(session, ids[n], item.delivery, payable, now=item.received_at)
    settled = [outcome_parameters(ids[n], outcome) for n, outcome in enumerate(outcomes) if outcome is not None]
    if settled:
        await session.execute(OUTCOME, settled)
    return outcomes


def _payable_type(batch: Sequence[Received]) -> PaymentOrderType | None:
    """The only type of order the batch's accounts can pay, or None when it holds both kinds."""
    types = {payable_type(item.instance_id) for item in batch}
    return types.pop() if len(types) == 1 else None


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
        self._current: list[_Waiting] = []  # the batch being written
        self.batches = 0  # transactions written, for benchmarks and tests

    async def receive(self, item: Received) -> Outcome | None:
        if self._closing:
            raise ServiceUnavailableError("the platform is shutting down; deliver again shortly", retry_after_seconds=5)
        if len(self._waiting) >= MAX_WAITING:
            raise ServiceUnavailableError("too many bank deliveries at once; deliver again shortly")
        if self._runner is None or self._runner.done():
            # a context of its own: the runner outlives the request that started it (its log fields)
            self._runner = asyncio.get_running_loop().create_task(
                self._run(), name="kitehub-settlement", context=contextvars.Context()
            )
        future: asyncio.Future[Outcome | None] = asyncio.get_running_loop().create_future()
        self._waiting.append((item, future))
        self._wake.set()
        return await asyncio.shield(future)  # a caller that goes away does not take the delivery with it

    async def close(self, timeout_seconds: float = CLOSE_TIMEOUT_SECONDS) -> None:
        """Settle what is waiting (every caller gets its answer), then stop; after the timeout the
        runner is stopped and whoever still waits is answered 503 (the bank delivers again)."""
        self._closing = True
        self._wake.set()
        runner = self._runner
        if runner is None:
            return
        try:
            await asyncio.wait_for(asyncio.shield(runner), timeout_seconds)
        except TimeoutError:
            runner.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await runner

    async def _run(self) -> None:
        try:
            while not self._closing or self._waiting:
                await self._wake.wait()
                self._wake.clear()
                while self._waiting:
                    batch, self._waiting = self._waiting[: self._max_batch], self._waiting[self._max_batch :]
                    self._current = batch
                    await self._settle(batch)
                    self._current = []
        finally:  # stopped midway (cancelled): nobody is left without an answer
            for _, future in [*self._current, *self._waiting]:
                stopped = ServiceUnavailableError("bank deliveries are not being settled now; deliver again shortly")
                _resolve(future, error=stopped)
            self._current, self._waiting = [], []

    async def _settle(self, batch: list[_Waiting]) -> None:
        items = [item for item, _ in batch]
        try:
            async with self._sessions() as session:
                async with session.begin():
                    outcomes = await receive_batch(session, items)
                forget_committed(session)
        except Exception as exc:  # settled again one by one; each failure goes to its caller
            if _unavailable(exc):  # the database, not a delivery: one by one would only wait longer
                for _, future in batch:
                    _resolve(future, error=_unavailable_error())
                return
            if len(batch) == 1:
                _resolve(batch[0][1], error=exc)
                return
            logger.warning("settlement batch failed; settling its deliveries one by one", size=len(batch),
                           error=type(exc).__name__, exc_info=exc)  # fmt: skip
            for item, future in batch:
                await self._settle_alone(item, future)
            return
        self.batches += 1
        for (_, future), outcome in zip(batch, outcomes, strict=True):
            _resolve(future, outcome)

    async def _settle_alone(self, item: Received, future: asyncio.Future[Outcome | None]) -> None:
        try:
            async with self._sessions() as session:
                async with session.begin():
                    outcome = await receive(session, item.delivery, account=item.account, now=item.received_at,
                                            instance_id=item.instance_id)  # fmt: skip
                forget_committed(session)
        except Exception as exc:  # the caller answers for it (the bank retries)
            _resolve(future, error=_unavailable_error() if _unavailable(exc) else exc)
        else:
            self.batches += 1
            _resolve(future, outcome)


def _unavailable(exc: BaseException) -> bool:
    """The platform database cannot be reached or has no connection to spare."""
    if isinstance(exc, DBAPIError) and exc.connection_invalidated:
        return True
    return isinstance(exc, SQLAlchemyTimeoutError | InterfaceError | OSError)


def _unavailable_error() -> ServiceUnavailableError:
    return ServiceUnavailableError(
        "the platform database is unavailable; deliver again shortly", retry_after_seconds=30
    )


def _resolve(
    future: asyncio.Future[Outcome | None], outcome: Outcome | None = None, *, error: BaseException | None = None
) -> None:
    if future.done():
        return
    if error is not None:
        future.set_exception(error)
    else:
        future.set_result(outcome)
