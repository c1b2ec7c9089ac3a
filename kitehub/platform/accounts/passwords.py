"""Password hashing: Argon2id with argon2-cffi's defaults (above OWASP's m=19 MiB, t=2, p=1).

Hashing is deliberately slow (tens of milliseconds of CPU and memory), so it runs in worker
threads, at most ``CONCURRENT_HASHES`` at a time: a burst of log-ins queues up there (first come,
first served) instead of stalling the event loop that serves every other request. Each hash runs
``parallelism`` threads of its own (argon2's lanes), so one hash per ``parallelism`` cores keeps
every core busy; more at once would not hash more per second, only make each log-in slower (and a
real log-in beside a burst twice as slow).
"""

from __future__ import annotations

import os

import anyio
import anyio.to_thread
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

MIN_PASSWORD_LENGTH = 10
_hasher = PasswordHasher()
CONCURRENT_HASHES = max(1, len(os.sched_getaffinity(0)) // _hasher.parallelism)
# Verified against when there is no usable hash, so every path costs the same time.
_DUMMY_HASH = _hasher.hash("kitehub-timing-equaliser")
_limiter: anyio.CapacityLimiter | None = None


def _capacity() -> anyio.CapacityLimiter:
    global _limiter
    if _limiter is None:
        _limiter = anyio.CapacityLimiter(CONCURRENT_HASHES)
    return _limiter


def _verify(stored_hash: str | None, password: str) -> bool:
    usable = stored_hash is not None and stored_hash.startswith("$argon2")
    try:
        return _hasher.verify(stored_hash if usable and stored_hash else _DUMMY_HASH, password) and usable
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


async def hash_password(password: str) -> str:
    return await anyio.to_thread.run_sync(_hasher.hash, password, limiter=_capacity())


async def verify_password(stored_hash: str | None, password: str) -> bool:
    return await anyio.to_thread.run_sync(_verify, stored_hash, password, limiter=_capacity())


def needs_rehash(stored_hash: str) -> bool:
    try:
        return _hasher.check_needs_rehash(stored_hash)
    except InvalidHashError:
        return False
