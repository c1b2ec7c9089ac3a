"""Whether an exception means "the database is away" (a restart, an outage, a full pool): the
same request may succeed shortly, so it is answered 503 with ``Retry-After``, never 500."""

from __future__ import annotations

import asyncpg
from sqlalchemy.exc import DBAPIError
from sqlalchemy.exc import TimeoutError as PoolTimeoutError

# What asyncpg raises when the server is away, restarting or out of connections (raw, or as the
# cause of SQLAlchemy's wrapper): the request may succeed if sent again shortly.
_SERVER_AWAY = (
    asyncpg.PostgresConnectionError,  # class 08: cannot connect, connection lost
    asyncpg.CannotConnectNowError,  # "the database system is starting up / shutting down"
    asyncpg.AdminShutdownError,  # sessions ended by a fast shutdown or restart
    asyncpg.CrashShutdownError,
    asyncpg.TooManyConnectionsError,
    asyncpg.InvalidCatalogNameError,  # the database is not there (yet): a deployment, not the client
    asyncpg.InvalidAuthorizationSpecificationError,  # the server refuses our role (a rotated password)
    PoolTimeoutError,  # no pooled connection free in time
)
DATABASE_RETRY_AFTER_SECONDS = 5


def is_database_unavailable(exc: BaseException) -> bool:
    """The database could not be reached or dropped the connection (a restart, an outage): the
    same request may succeed shortly, so it is the server's 503, never a 500."""
    if isinstance(exc, DBAPIError):
        if exc.connection_invalidated:
            return True
        exc = exc.orig.__cause__ or exc.orig if exc.orig is not None else exc
    if isinstance(exc, asyncpg.InterfaceError):
        return "closed" in str(exc)  # "connection is closed"; other interface errors are bugs
    if isinstance(exc, OSError):  # refused, reset, timed out, or no Unix socket (a restarting server)
        return exc.filename is None  # a file's error names the file: that one is not about the network
    return isinstance(exc, _SERVER_AWAY)


def needs_a_look(exc: BaseException) -> bool:
    """Causes that do not pass with a restart, or a bare network error from somewhere that may not
    be the database: logged with their traceback, so an operator sees what to repair."""
    cause = exc.orig.__cause__ or exc.orig if isinstance(exc, DBAPIError) and exc.orig is not None else exc
    lasting = (asyncpg.InvalidCatalogNameError, asyncpg.InvalidAuthorizationSpecificationError)
    return isinstance(cause, lasting) or (isinstance(exc, OSError) and not isinstance(exc, ConnectionError))
