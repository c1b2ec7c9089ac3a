"""Pooled connections that still work, without paying a round trip on every request.

SQLAlchemy's ``pool_pre_ping`` asks the server before every checkout: a transaction of three round
trips, which cost more than all the statements of a bank webhook. Most dead connections are known
without asking: asyncpg keeps reading a pooled connection's socket, so a server that restarted,
timed the session out or was told ``pg_terminate_backend`` has already marked it closed by the
time it is lent. What the socket cannot tell is a network path that died silently (a NAT or load
balancer forgetting an idle flow); only a connection that sat idle for a while can be in that
state, so only those are asked.
"""

from __future__ import annotations

import time
from typing import Any

from sqlalchemy import event
from sqlalchemy.exc import DisconnectionError
from sqlalchemy.ext.asyncio import AsyncEngine

IDLE_PING_SECONDS = 30.0
_IDLE_SINCE = "kitehub_idle_since"


def check_pooled_connections(engine: AsyncEngine, *, idle_ping_seconds: float = IDLE_PING_SECONDS) -> AsyncEngine:
    """Replace, at checkout, a pooled connection the server closed, or one idle for longer than
    ``idle_ping_seconds`` that does not answer a ping (the pool reconnects and tries again)."""

    def note_idle(_dbapi_connection: Any, record: Any) -> None:
        record.info[_IDLE_SINCE] = time.monotonic()

    def check(dbapi_connection: Any, record: Any, _proxy: Any) -> None:
        if dbapi_connection.driver_connection.is_closed():
            raise DisconnectionError("the server closed this pooled connection")
        idle_since = record.info.get(_IDLE_SINCE)
        if idle_since is not None and time.monotonic() - idle_since > idle_ping_seconds:
            try:
                dbapi_connection.ping()
            except Exception as exc:
                raise DisconnectionError("a pooled connection that sat idle did not answer") from exc

    pool = engine.sync_engine.pool
    event.listen(pool, "checkin", note_idle)
    event.listen(pool, "checkout", check)
    return engine
