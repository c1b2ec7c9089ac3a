"""Tenant engines built once and lent to one tenant after another (same server), not rebuilt.

Under churn (more tenants than cached engines) the router evicts an engine and builds another on
almost every request. Building and throwing away an SQLAlchemy engine (dialect, pool, events,
a web of objects in reference cycles) cost CPU and, more, garbage: in `bench/tenant_requests.py`
the cyclic garbage collector took twice as long under churn, with pauses of up to 34 ms that set
the p99. So an evicted engine is kept as a shell once its connections are closed, and the next
tenant of the same server gets that shell, pointed at its own database.

Why this cannot lend one tenant's connection to another:
- a shell is only taken back after ``dispose()``: every pooled connection is closed and the pool
  replaced by an empty one, and only an engine with no connection checked out is taken back (one
  still lent goes back to the old pool, never the new one, and is closed with it);
- the tenant is read when a connection is opened (``do_connect``): user, password and database
  come from the engine's current target, and there is no connection to reuse from before;
- every new connection is checked against the target: the role the server reports for the
  session (``session_authorization``) must be the target's, or the connection is refused.
"""

from __future__ import annotations

import weakref
from collections import defaultdict
from typing import Any

from sqlalchemy import event
from sqlalchemy.engine import URL, Engine
from sqlalchemy.ext.asyncio import AsyncEngine

from kitehub.provisioning.tenant_dialect import ServerKey, create_tenant_engine, server_key

SHELLS_PER_SERVER = 64  # idle shells hold no connection; this bounds their memory


class TenantEngines:
    """Builds tenant engines with one set of pool options, reusing retired ones."""

    def __init__(self, *, pool_size: int, pool_timeout: float, pool_recycle: int, connect_args: dict[str, Any]) -> None:
        self._options: dict[str, Any] = {
            "pool_size": pool_size,
            "pool_timeout": pool_timeout,
            "pool_recycle": pool_recycle,
            "connect_args": connect_args,
        }
        self._shells: defaultdict[ServerKey, list[AsyncEngine]] = defaultdict(list)
        self._targets: weakref.WeakKeyDictionary[Engine, URL] = weakref.WeakKeyDictionary()
        self.reused = 0  # engines lent again instead of built, for stats and tests

    def build(self, url: URL) -> AsyncEngine:
        """An engine on ``url``'s database: a retired shell of its server, or a new engine."""
        shells = self._shells.get(server_key(url))
        if shells:
            engine = shells.pop()
            self._point(engine, url)
            self.reused += 1
            return engine
        engine = create_tenant_engine(url, **self._options)
        self._point(engine, url)
        sync_engine = engine.sync_engine

        def connect_to_target(_dialect: Any, _record: Any, _cargs: list[Any], cparams: dict[str, Any]) -> None:
            target = self._target(sync_engine)
            cparams.update(user=target.username, password=target.password, database=target.database)

        def check_role(dbapi_connection: Any, _record: Any) -> None:
            target = self._target(sync_engine)
            role = dbapi_connection.driver_connection.get_settings().session_authorization
            if role != target.username:  # the pool closes the connection it could not set up
                raise TenantTargetError(f"a connection for role {target.username!r} reached role {role!r}")

        event.listen(sync_engine, "do_connect", connect_to_target)
        event.listen(sync_engine, "connect", check_role)
        return engine

    async def retire(self, engine: AsyncEngine) -> None:
        """Close ``engine``'s connections; keep it for another tenant when nothing is lent."""
        lent = engine.sync_engine.pool.checkedout()  # type: ignore[attr-defined]
        self._targets.pop(engine.sync_engine, None)  # from now on it opens no connection
        await engine.dispose()
        engine.sync_engine.url = engine.sync_engine.url.set(password=None)  # its URL names no password
        shells = self._shells[server_key(engine.url)]
        if lent == 0 and len(shells) < SHELLS_PER_SERVER:
            shells.append(engine)

    async def close(self) -> None:
        shells = [engine for per_server in self._shells.values() for engine in per_server]
        self._shells.clear()
        for engine in shells:
            await engine.dispose()

    def _point(self, engine: AsyncEngine, url: URL) -> None:
        self._targets[engine.sync_engine] = url
        # what logs and errors name (the password masked); the driver stays the tenant dialect's
        engine.sync_engine.url = url.set(drivername=engine.sync_engine.url.drivername)

    def _target(self, engine: Engine) -> URL:
        target = self._targets.get(engine)
        if target is None:
            raise TenantTargetError("a retired tenant engine was asked for a connection")
        return target


class TenantTargetError(RuntimeError):
    """A tenant engine would have connected somewhere else than its tenant's database: a bug,
    never served."""
