"""A bounded LRU of per-tenant ``AsyncEngine``s: the connection budget of one KiteHub process.

Each engine has at most ``pool_size`` connections (no overflow) and there are at most
``max_engines`` engines (counting those being disposed), so this process never holds more than
``max_engines x pool_size`` tenant connections. An engine still serving a request is never
evicted: a request needing a new engine while all are busy waits for one to become free, up to
a deadline, then gets a 503 instead of breaking the bound.

Disposing an engine (closing its connections) takes a round trip, and the bound counts an engine
until it is closed; so when the cache is nearly full, the least recently used idle engines are
closed in the background, keeping a few slots free: a request for a new tenant then only pays for
its own connection, not for someone else's goodbye.
"""

from __future__ import annotations

import asyncio
import uuid
from collections import OrderedDict
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field

from sqlalchemy.ext.asyncio import AsyncEngine

from kitehub.errors import ServiceUnavailableError

DEFAULT_ACQUIRE_TIMEOUT_SECONDS = 10.0


class TenantConnectionsBusyError(ServiceUnavailableError):
    slug, title = "tenant-connections-busy", "Every tenant connection is busy"


@dataclass
class _Entry:
    engine: AsyncEngine
    fingerprint: str
    in_use: int = 0


@dataclass
class EngineCacheStats:
    engines_cached: int = 0
    connections_checked_out: int = 0
    hits: int = 0
    misses: int = 0
    evictions: int = 0
    waits: int = 0


async def close_engine(engine: AsyncEngine) -> None:
    """The default way to let an evicted engine go: close its connections."""
    await engine.dispose()


@dataclass
class EngineCache:
    max_engines: int
    acquire_timeout_seconds: float = DEFAULT_ACQUIRE_TIMEOUT_SECONDS
    # closes an evicted engine's connections (``TenantEngines.retire`` also keeps it for reuse)
    retire: Callable[[AsyncEngine], Awaitable[None]] = close_engine
    _entries: OrderedDict[uuid.UUID, _Entry] = field(default_factory=OrderedDict)
    _disposing: int = 0  # evicted engines whose connections are still being closed
    _cleaners: set[asyncio.Task[None]] = field(default_factory=set)
    _waiting: int = 0  # requests waiting for an engine to become idle
    _changed: asyncio.Condition = field(default_factory=asyncio.Condition)
    _stats: EngineCacheStats = field(default_factory=EngineCacheStats)

    @asynccontextmanager
    async def engine(
        self, key: uuid.UUID, fingerprint: str, build: Callable[[], AsyncEngine]
    ) -> AsyncIterator[AsyncEngine]:
        """Lend the engine for ``key`` (built when missing or when its fingerprint changed)."""
        entry = self._lend_cached(key, fingerprint) or await self._acquire(key, fingerprint, build)
        try:
            yield entry.engine
        finally:
            entry.in_use -= 1
            if self._waiting:  # someone waits for an idle engine: wake them
                async with self._changed:
                    self._changed.notify_all()

    def _lend_cached(self, key: uuid.UUID, fingerprint: str) -> _Entry | None:
        """The hot path, without the lock: nothing here awaits, so no other task can interleave."""
        entry = self._entries.get(key)
        if entry is None or entry.fingerprint != fingerprint:
            return None
        self._stats.hits += 1
        self._entries.move_to_end(key)
        entry.in_use += 1
        return entry

    async def _acquire(self, key: uuid.UUID, fingerprint: str, build: Callable[[], AsyncEngine]) -> _Entry:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self.acquire_timeout_seconds
        while True:
            evicted: list[AsyncEngine] = []
            async with self._changed:
                entry = self._entries.get(key)
                if entry is not None and entry.fingerprint == fingerprint:
                    self._stats.hits += 1
                    self._entries.move_to_end(key)
                    entry.in_use += 1
                    return entry
                if entry is not None and entry.in_use == 0:  # outdated (password or server moved)
                    evicted.append(self._pop(key))
                elif entry is None and len(self._entries) + self._disposing < self.max_engines:
                    self._stats.misses += 1
                    entry = self._entries[key] = _Entry(build(), fingerprint, in_use=1)
                    self._keep_room()
                    return entry
                elif entry is None and (victim := self._least_recently_used_idle()) is not None:
                    evicted.append(self._pop(victim))
                else:
                    await self._wait(deadline)
                    continue
            await self._dispose(evicted)  # outside the lock; the slot frees once connections are closed

    @property
    def spare_slots(self) -> int:
        return max(1, self.max_engines // 10) if self.max_engines > 2 else 0

    def _keep_room(self) -> None:
        """(Lock held.) Close idle engines in the background once fewer than ``spare_slots`` are free."""
        excess = len(self._entries) + self._disposing - (self.max_engines - self.spare_slots)
        evicted = []
        for _ in range(max(0, excess)):  # an evicted engine still counts (disposing): count, don't re-test
            victim = self._least_recently_used_idle()
            if victim is None:
                break
            evicted.append(self._pop(victim))
        if evicted:
            task = asyncio.get_running_loop().create_task(self._dispose(evicted))
            self._cleaners.add(task)  # a reference until done: the loop keeps only weak ones
            task.add_done_callback(self._cleaners.discard)

    def _least_recently_used_idle(self) -> uuid.UUID | None:
        return next((key for key, entry in self._entries.items() if entry.in_use == 0), None)

    async def _wait(self, deadline: float) -> None:
        """Wait (lock held) for an engine to become idle, or fail with 503 at the deadline."""
        self._stats.waits += 1
        remaining = deadline - asyncio.get_running_loop().time()
        self._waiting += 1
        try:
            await asyncio.wait_for(self._changed.wait(), max(remaining, 0))
        except TimeoutError:
            raise TenantConnectionsBusyError(
                "every tenant connection of this process is busy; try again", retry_after_seconds=1
            ) from None
        finally:
            self._waiting -= 1

    def _pop(self, key: uuid.UUID) -> AsyncEngine:
        self._stats.evictions += 1
        self._disposing += 1  # still counts against the bound until its connections are closed
        return self._entries.pop(key).engine

    async def _dispose(self, engines: list[AsyncEngine]) -> None:
        for engine in engines:
            try:
                await self.retire(engine)
            finally:
                async with self._changed:
                    self._disposing -= 1
                    self._changed.notify_all()

    async def forget(self, key: uuid.UUID) -> None:
        """Drop ``key``'s engine now if idle (else it is replaced once idle and outdated)."""
        async with self._changed:
            entry = self._entries.get(key)
            evicted = [self._pop(key)] if entry is not None and entry.in_use == 0 else []
        await self._dispose(evicted)

    async def close(self) -> None:
        async with self._changed:
            evicted = [self._pop(key) for key in list(self._entries)]
        await self._dispose(evicted)
        if self._cleaners:
            await asyncio.gather(*self._cleaners, return_exceptions=True)

    def stats(self) -> EngineCacheStats:
        checked_out = sum(entry.engine.pool.checkedout() for entry in self._entries.values())  # type: ignore[attr-defined]
        return EngineCacheStats(
            engines_cached=len(self._entries),
            connections_checked_out=checked_out,
            hits=self._stats.hits,
            misses=self._stats.misses,
            evictions=self._stats.evictions,
            waits=self._stats.waits,
        )
