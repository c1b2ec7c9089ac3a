"""Per-IP limits for the public guest routes: a sliding one-minute window per (instance, IP, route).

Kept in the process (bounded, oldest keys dropped first): with several API processes each allows
its share, which bounds abuse without a round trip per event. A shared limiter (PostgreSQL or a
cache) is the step up when that is not enough.
"""

from __future__ import annotations

import math
import time
from collections import OrderedDict, deque

from kitehub.errors import TooManyRequestsError

WINDOW_SECONDS = 60.0
MAX_KEYS = 50_000


class RateLimiter:
    def __init__(self, per_minute: int) -> None:
        self._limit = per_minute
        self._hits: OrderedDict[tuple[str, ...], deque[float]] = OrderedDict()

    def check(self, *key: str) -> None:
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
