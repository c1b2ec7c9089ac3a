"""A bounded LRU of per-tenant ``AsyncEngine``s: the connection budget of one KiteHub process.

Each engine has at most ``pool_size`` connections (no overflow) and there are at most
``max_engines`` engines, so this process never holds more than ``max_engines x pool_size``
tenant connections. An engine still serving a request is never evicted: a request that needs a
new engine while every cached one is busy waits for one to become free, instead of breaking the
bound. Evicted engines are disposed, closing their pooled connections at once.
"""

from __future__ import annotations

import asyncio
import uuid
from collections import OrderedDict
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field

from sqlalchemy.ext.asyncio import AsyncEngine


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


@dataclass
class EngineCache:
    max_engines: int
    _entries: OrderedDict[uuid.UUID, _Entry] = field(default_factory=OrderedDict)
    _changed: asyncio.Condition = field(default_factory=asyncio.Condition)
    _stats: EngineCacheStats = field(default_factory=EngineCacheStats)

    @asynccontextmanager
    async def engine(
        self, key: uuid.UUID, fingerprint: str, build: Callable[[], AsyncEngine]
    ) -> AsyncIterator[AsyncEngine]:
        """Lend the engine for ``key`` (built when missing or when its fingerprint changed)."""
        entry = await self._acquire(key, fingerprint, build)
        try:
            yield entry.engine
        finally:
            async with self._changed:
                entry.in_use -= 1
                self._changed.notify_all()

    async def _acquire(self, key: uuid.UUID, fingerprint: str, build: Callable[[], AsyncEngine]) -> _Entry:
        async with self._changed:
            while True:
                entry = self._entries.get(key)
                if entry is not None and entry.fingerprint == fingerprint:
                    self._stats.hits += 1
                    self._entries.move_to_end(key)
                    break
                if entry is not None and entry.in_use == 0:  # outdated (password, server, schema moved)
                    await self._evict(key)
                    continue
                if entry is None and (len(self._entries) < self.max_engines or await self._evict_idle()):
                    self._stats.misses += 1
                    entry = _Entry(build(), fingerprint)
                    self._entries[key] = entry
                    break
                self._stats.waits += 1
                await self._changed.wait()
            entry.in_use += 1
            return entry

    async def _evict_idle(self) -> bool:
        """Evict the least recently used engine nobody is using; False when all are busy."""
        for key, entry in self._entries.items():  # oldest first
            if entry.in_use == 0:
                await self._evict(key)
                return True
        return False

    async def _evict(self, key: uuid.UUID) -> None:
        entry = self._entries.pop(key)
        self._stats.evictions += 1
        await entry.engine.dispose()

    async def forget(self, key: uuid.UUID) -> None:
        """Drop ``key``'s engine now if idle (else it is replaced once idle and outdated)."""
        async with self._changed:
            entry = self._entries.get(key)
            if entry is not None and entry.in_use == 0:
                await self._evict(key)

    async def close(self) -> None:
        async with self._changed:
            for key in list(self._entries):
                await self._evict(key)

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
