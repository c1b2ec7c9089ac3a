"""Tenant engines that share what every tenant database on one server has in common.

The router lends an engine to every tenant it has not cached (a new one, or a retired one of the
same server: ``tenant_engines``), and under churn (more tenants than cached engines) that is every
request. Two costs of a new SQLAlchemy engine are the same for
every tenant database on a server, so they are paid once per server instead:

- initialising the dialect on the first connection (server version, default schema, isolation
  level, string escaping...): about ten round trips. The answers are learned per server and
  copied into each new tenant engine's dialect;
- compiling statements to SQL: each engine has its own statement cache, keyed by its dialect
  object, so a new engine compiled every query again (most of the CPU of a first request). Tenant
  dialects of one server compare equal and the tenant engines of a server share one cache, so a
  query compiled for one tenant is reused for every other. The compiled SQL holds no values:
  SQLAlchemy extracts the parameters before caching.

Per-connection set-up (type codecs, prepared statements) still runs on every connection.
"""

from __future__ import annotations

from typing import Any, ClassVar

from sqlalchemy.dialects import registry
from sqlalchemy.dialects.postgresql.asyncpg import PGDialect_asyncpg
from sqlalchemy.engine import URL
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine
from sqlalchemy.util import LRUCache

from kitehub.pool_health import check_pooled_connections

DRIVER = "kitehub_tenant"
COMPILED_CACHE_SIZE = 1000  # distinct tenant statements (the tenant API has a few hundred)
_MISSING = object()

ServerKey = tuple[str, int]


class TenantDialect(PGDialect_asyncpg):
    """The asyncpg dialect, equal to every other tenant dialect of the same server.

    Equality is what the statement cache keys on: equal dialects render the same SQL, since they
    are built with the same options (only ``create_tenant_engine`` makes them) and learn the same
    server answers.
    """

    supports_statement_cache = True
    _learned: ClassVar[dict[ServerKey, dict[str, Any]]] = {}

    def __init__(self, kitehub_server: ServerKey | None = None, **kwargs: Any) -> None:
        super().__init__(**kwargs)  # type: ignore[no-untyped-call]
        self.kitehub_server = kitehub_server

    def __eq__(self, other: object) -> bool:
        if self.kitehub_server is None or not isinstance(other, TenantDialect):
            return self is other
        return self.kitehub_server == other.kitehub_server

    def __hash__(self) -> int:
        return id(self) if self.kitehub_server is None else hash((TenantDialect, self.kitehub_server))

    def do_close(self, dbapi_connection: Any) -> None:
        """On a Unix socket, close without the goodbye round trip: under churn the engine cache
        closes an engine for every new tenant. The pool only closes connections it holds, rolled
        back on return, and PostgreSQL takes an idle session's socket ending as a normal end
        (DEBUG1). Over TCP the goodbye is kept: with TLS an abrupt end is logged as an error."""
        if self.kitehub_server is not None and self.kitehub_server[0].startswith("/"):
            dbapi_connection.driver_connection.terminate()
        else:
            super().do_close(dbapi_connection)  # type: ignore[no-untyped-call]

    def initialize(self, connection: Any) -> None:
        learned = self._learned.get(self.kitehub_server) if self.kitehub_server else None
        if learned is not None:
            self.__dict__.update(learned)
            return
        before = dict(self.__dict__)
        super().initialize(connection)  # type: ignore[no-untyped-call]
        if self.kitehub_server is not None:
            self._learned[self.kitehub_server] = {
                name: value for name, value in self.__dict__.items() if before.get(name, _MISSING) is not value
            }


registry.register(f"postgresql.{DRIVER}", __name__, "TenantDialect")

_compiled_caches: dict[ServerKey, LRUCache[Any, Any]] = {}


def server_key(url: URL) -> ServerKey:
    """(host, port) of the server ``url`` reaches; for a Unix socket, its directory and port."""
    if url.host:
        return url.host, url.port or 5432
    return str(url.query.get("host")), int(str(url.query.get("port") or 5432))


def create_tenant_engine(
    url: URL, *, pool_size: int, pool_timeout: float, pool_recycle: int, connect_args: dict[str, Any]
) -> AsyncEngine:
    """An engine on one tenant database, sharing its server's dialect answers and compiled SQL.

    Only pool options are taken: a dialect option (a JSON serialiser, a label length...) would
    change the SQL, and equal dialects must render the same.
    """
    server = server_key(url)
    compiled = _compiled_caches.setdefault(server, LRUCache(COMPILED_CACHE_SIZE))
    engine = create_async_engine(
        url.set(drivername=f"postgresql+{DRIVER}"),
        kitehub_server=server,
        execution_options={"compiled_cache": compiled},
        pool_size=pool_size,
        max_overflow=0,
        pool_timeout=pool_timeout,
        pool_recycle=pool_recycle,
        connect_args=connect_args,
        hide_parameters=True,
    )
    return check_pooled_connections(engine)
