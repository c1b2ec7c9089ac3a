"""Per-client limits: a sliding one-minute window per key, and one turn at a time per key.

Used by the public guest routes (per school and address) and by the password and token endpoints
(per address, ``kitehub.auth_limits``). Kept in the process (bounded, oldest keys dropped first):
with several API processes each allows its share, so N processes allow up to N times the
configured rate; that bounds abuse without a round trip per request. A shared limiter (PostgreSQL
or a cache) is the step up when that is not enough.
"""

from __future__ import annotations

import asyncio
import ipaddress
import math
import time
from collections import OrderedDict, deque
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from litestar.types import Scope

from kitehub.errors import TooManyRequestsError

WINDOW_SECONDS = 60.0
MAX_KEYS = 50_000


def client_address(scope: Scope) -> str:
    """The key of per-client limits: the connection's address (a proxy's own, unless uvicorn runs
    with proxy headers). An IPv6 client counts by its /64: one subscriber is handed a whole /64,
    so keying on the full address would give it 2**64 budgets."""
    client = scope.get("client")
    if not client:
        return "unknown"
    host = str(client[0])
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return host  # a test client's name, a Unix socket
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is None:
        return str(ipaddress.IPv6Network((address, 64), strict=False))
    return str(address.ipv4_mapped or address) if isinstance(address, ipaddress.IPv6Address) else host


class RateLimiter:
    """At most ``per_minute`` calls of ``check`` per key in any 60 seconds; 0 means no limit."""

    def __init__(self, per_minute: int) -> None:
        self._limit = per_minute
        self._hits: OrderedDict[tuple[str, ...], deque[float]] = OrderedDict()

    def check(self, *key: str) -> None:
        """Count one request for ``key``, or raise 429 with the seconds until the window has room."""
        if self._limit <= 0:
            return
        now = time.monotonic()
        hits = self._hits.pop(key, None) or deque()
        while hits and hits[0] <= now - WINDOW_SECONDS:
            hits.popleft()
        if len(hits) >= self._limit:
            self._hits[key] = hits
            retry = math.ceil(hits[0] + WINDOW_SECONDS - now)
            raise TooManyRequestsError("too many requests from this address; slow down", retry_after_seconds=retry)
        hits.append(now)
        self._hits[key] = hits  # most recent last
        while len(self._hits) > MAX_KEYS:
            self._hits.popitem(last=False)


class _Turn:
    __slots__ = ("lock", "users")

    def __init__(self) -> None:
        self.lock = asyncio.Lock()
        self.users = 0


class Turns:
    """One holder per key at a time; the others wait in arrival order (``asyncio.Lock`` is fair).

    A key is forgotten once nobody holds or waits for it, so memory follows the requests in flight.
    """

    def __init__(self) -> None:
        self._turns: dict[str, _Turn] = {}

    @asynccontextmanager
    async def take(self, key: str) -> AsyncIterator[None]:
        turn = self._turns.get(key)
        if turn is None:
            turn = self._turns[key] = _Turn()
        turn.users += 1
        try:
            async with turn.lock:
                yield
        finally:
            turn.users -= 1
            if turn.users == 0:
                del self._turns[key]

    def __len__(self) -> int:
        return len(self._turns)
