"""The asyncpg dialect for tenant engines, learning each database server once.

SQLAlchemy initialises a dialect on an engine's first connection (server version, default schema,
isolation level, string escaping...): about ten round trips and most of the CPU of a new engine.
Every tenant database on one server answers those the same, and the router makes a new engine
for every tenant it has not cached; so the answers are kept per server and copied into each new
tenant engine's dialect. Per-connection set-up (type codecs) still runs on every connection.
"""

from __future__ import annotations

from typing import Any, ClassVar

from sqlalchemy.dialects import registry
from sqlalchemy.dialects.postgresql.asyncpg import PGDialect_asyncpg
from sqlalchemy.engine import URL

DRIVER = "kitehub_tenant"
_MISSING = object()


class TenantDialect(PGDialect_asyncpg):
    supports_statement_cache = True
    _learned: ClassVar[dict[tuple[str | None, int | None], dict[str, Any]]] = {}

    def initialize(self, connection: Any) -> None:
        url = connection.engine.url
        server = (url.host or str(url.query.get("host")), url.port)
        learned = self._learned.get(server)
        if learned is not None:
            self.__dict__.update(learned)
            return
        before = dict(self.__dict__)
        super().initialize(connection)  # type: ignore[no-untyped-call]
        self._learned[server] = {
            name: value for name, value in self.__dict__.items() if before.get(name, _MISSING) is not value
        }


registry.register(f"postgresql.{DRIVER}", __name__, "TenantDialect")


def tenant_engine_url(url: URL) -> URL:
    return url.set(drivername=f"postgresql+{DRIVER}")
