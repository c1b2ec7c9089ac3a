"""The ``kitehub`` command line."""

from __future__ import annotations

import asyncio
import contextlib
import errno
import gc
import signal
import socket
import subprocess
import sys
from collections.abc import Awaitable
from typing import TypeVar

import asyncpg
import click
from alembic.script.revision import RevisionError
from alembic.util import CommandError
from pydantic import SecretStr
from sqlalchemy.engine import URL
from sqlalchemy.exc import DBAPIError, InterfaceError

from kitehub import __version__
from kitehub.bootstrap import resolve_platform_url
from kitehub.cli_context import cli_settings, run
from kitehub.db import create_platform_engine, libpq_dsn, safe_url, session_factory
from kitehub.job_worker import WorkerGaveUpError, supervised_worker
from kitehub.migrate import migrate_to
from kitehub.platform.cli import admin
from kitehub.platform.payments.cli import vietqr
from kitehub.provisioning.cli import keys, servers, tenants
from kitehub.provisioning.fleet_cli import migrate_status, migrate_tenants
from kitehub.provisioning.vault import Vault
from kitehub.settings import Settings
from kitehub.tenant.media.cli import storage

T = TypeVar("T")


def _settings() -> Settings:
    return cli_settings()


def _platform_url(settings: Settings, *, stop_embedded_with_process: bool = False) -> URL:
    """The platform database URL, or a one-line error instead of a traceback."""
    try:
        return _run(resolve_platform_url(settings, stop_embedded_with_process=stop_embedded_with_process))
    except (OSError, RuntimeError, subprocess.SubprocessError, asyncpg.PostgresError) as exc:
        where = (
            "the configured platform database"
            if settings.database_url
            else f"the embedded PostgreSQL in {settings.data_dir / 'pgdata'}"
        )
        raise click.ClickException(f"cannot reach {where}: {type(exc).__name__}: {exc}") from exc


def _run(coro: Awaitable[T]) -> T:
    return run(coro)


async def _migrate_platform(url: URL, revision: str) -> tuple[str | None, str | None]:
    engine = create_platform_engine(url, pool_size=1)
    try:
        return await migrate_to(engine, "platform", revision)
    finally:
        await engine.dispose()


def _migrate_or_fail(url: URL, revision: str) -> tuple[str | None, str | None]:
    try:
        return _run(_migrate_platform(url, revision))
    except (CommandError, RevisionError) as exc:  # unknown target, or a database stamped by a newer release
        raise click.ClickException(f"migration failed: {exc}") from exc
    except (OSError, InterfaceError, asyncpg.InterfaceError, asyncpg.InvalidCatalogNameError) as exc:
        raise click.ClickException(f"cannot reach the platform database {safe_url(url)}: {_first_line(exc)}") from exc
    except (DBAPIError, asyncpg.PostgresError) as exc:
        if isinstance(getattr(exc, "orig", None), OSError | asyncpg.InvalidCatalogNameError):
            raise click.ClickException(
                f"cannot reach the platform database {safe_url(url)}: {_first_line(exc)}"
            ) from exc
        raise click.ClickException(f"migration failed: {_first_line(exc)}") from exc


def _first_line(exc: BaseException) -> str:
    text = str(getattr(exc, "orig", None) or exc)
    return f"{type(exc).__name__}: {text.splitlines()[0] if text else ''}"


def _exit_normally_after_signals() -> None:
    """Make SIGTERM/SIGINT end the process through ``sys.exit`` once uvicorn has shut down.

    uvicorn shuts down gracefully, restores the previous handlers and raises the signal again;
    with Python's default SIGTERM handler that kills the process before ``atexit`` runs, which
    would leave the embedded PostgreSQL this process started running forever.
    """

    def exit_on(sig: int, _frame: object) -> None:
        sys.exit(0 if sig == signal.SIGTERM else 128 + sig)

    signal.signal(signal.SIGTERM, exit_on)
    signal.signal(signal.SIGINT, exit_on)


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="kitehub")
def main() -> None:
    """KiteHub: control plane for online-school instances, one PostgreSQL database per tenant."""


@main.command()
@click.option("--host", default="127.0.0.1", show_default=True, help="Interface to listen on.")
@click.option("--port", default=8000, show_default=True, type=click.IntRange(0, 65535))
@click.option(
    "--migrate/--no-migrate",
    default=True,
    show_default=True,
    help="Upgrade the platform database first.",
)
@click.option("--worker/--no-worker", "with_worker", default=True, show_default=True, help="Also work the job queue.")
def serve(host: str, port: int, migrate: bool, with_worker: bool) -> None:
    """Run the platform API (on the embedded PostgreSQL unless KITEHUB_DATABASE_URL is set)."""
    import uvicorn

    from kitehub.app import create_app

    settings = _settings()
    listener = _listen(host, port)  # first: a port in use stops us before the database is touched
    url = _platform_url(settings, stop_embedded_with_process=True)
    if migrate:
        before, after = _migrate_or_fail(url, "head")
        click.echo(f"platform database: {before or 'empty'} -> {after}", err=True)
    resolved = settings.model_copy(update={"database_url": SecretStr(url.render_as_string(hide_password=False))})
    _exit_normally_after_signals()
    app = create_app(resolved, with_worker=with_worker)
    # Everything built so far lives as long as the process: keep it out of the garbage
    # collector's full passes, which otherwise stall requests when many tenant engines come and go.
    gc.collect()
    gc.freeze()
    server = uvicorn.Server(
        uvicorn.Config(app, host=host, port=port, log_config=None, access_log=False, server_header=False)
    )
    with contextlib.suppress(KeyboardInterrupt):
        server.run(sockets=[listener])
    if not server.started:
        sys.exit(3)  # what uvicorn.run answers when the application failed to start


def _listen(host: str, port: int) -> socket.socket:
    """The listening socket, bound before anything else happens.

    uvicorn binds only after the application has started: a port in use was found after the
    migrations ran and the job worker had started (and could have taken a job it then abandoned),
    and reported as one log line among many. Binding first makes it a one-line error and exit 1.
    """
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    try:
        listener = socket.create_server((host, port), family=family, backlog=2048)
    except OSError as exc:
        reason = exc.strerror or str(exc)
        raise click.ClickException(
            f"cannot listen on {host}:{port}: {reason}"
            + (" (is another kitehub serve running? choose another --port)" if exc.errno == errno.EADDRINUSE else "")
        ) from exc
    listener.set_inheritable(True)
    return listener


@main.group()
def migrate() -> None:
    """Schema migrations."""


@migrate.command("platform")
@click.option(
    "--to",
    "revision",
    default="head",
    show_default=True,
    help="Target revision (older = downgrade).",
)
def migrate_platform(revision: str) -> None:
    """Upgrade (or downgrade) the platform database."""
    url = _platform_url(_settings())
    before, after = _migrate_or_fail(url, revision)
    click.echo(f"platform database: {before or 'empty'} -> {after or 'empty'}")


@main.group()
def db() -> None:
    """The platform database server."""


@db.command("url")
def db_url() -> None:
    """Print the platform database DSN, e.g. psql "$(kitehub db url)".

    The embedded server is started if needed and left running, so the address stays valid.
    """
    click.echo(libpq_dsn(_platform_url(_settings())))


@main.command()
@click.option("--concurrency", default=2, show_default=True, type=click.IntRange(1, 64), help="Jobs at once.")
def worker(concurrency: int) -> None:
    """Work the job queue (provisioning...) without serving HTTP; run as many as wanted.

    A worker that stops (its database went away) is restarted with a growing pause; after
    KITEHUB_WORKER_GIVE_UP_SECONDS without a running worker the command exits 1.
    """
    settings = _settings()
    url = _platform_url(settings)
    try:
        _run(_work(settings, url, concurrency))
    except WorkerGaveUpError as exc:
        raise click.ClickException(str(exc)) from exc


async def _work(settings: Settings, url: URL, concurrency: int) -> None:
    engine = create_platform_engine(url)
    supervised = supervised_worker(
        settings,
        url,
        session_factory(engine),
        Vault(settings.keyring),
        concurrency=concurrency,
        give_up_seconds=settings.worker_give_up_seconds or None,
    )
    task = asyncio.ensure_future(supervised.run())
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, task.cancel)  # finish the jobs in hand, then stop
    click.echo(f"worker running ({concurrency} at once); stop with Ctrl+C", err=True)
    try:
        with contextlib.suppress(asyncio.CancelledError):
            await task
    finally:
        await engine.dispose()


migrate.add_command(migrate_tenants)
migrate.add_command(migrate_status)
main.add_command(servers)
main.add_command(tenants)
main.add_command(keys)
main.add_command(admin)
main.add_command(storage)
main.add_command(vietqr)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
