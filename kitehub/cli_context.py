"""What a CLI command needs to work on the platform: its sessions and the vault, set up once."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from functools import wraps
from typing import ParamSpec, TypeVar

import asyncpg
import click
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

import kitehub.platform.registry  # noqa: F401 - every table known before mappers configure
from kitehub.bootstrap import resolve_platform_url
from kitehub.db import create_platform_engine, session_factory
from kitehub.errors import KiteHubError
from kitehub.logs import configure_logging
from kitehub.provisioning.servers import harden_server, register_default_server
from kitehub.provisioning.vault import Vault, VaultError
from kitehub.settings import Settings, SettingsError, get_settings, read_settings

P = ParamSpec("P")
T = TypeVar("T")


def cli_settings() -> Settings:
    """The settings, with logging configured before anything (dev secret generation) logs."""
    try:
        configure_logging(read_settings())
        return get_settings()
    except SettingsError as exc:
        raise click.ClickException(f"configuration error: {exc}") from exc


def run(coro: Awaitable[T]) -> T:
    async def runner() -> T:
        return await coro

    return asyncio.run(runner())


def async_command(func: Callable[P, Awaitable[T]]) -> Callable[P, T]:
    """Run an async click command; an error a user can act on becomes one line and exit 1."""

    @wraps(func)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> T:
        try:
            return run(func(*args, **kwargs))
        except KiteHubError as exc:
            raise click.ClickException(exc.detail) from exc
        except (OSError, asyncpg.PostgresError, DBAPIError, VaultError) as exc:
            text = str(getattr(exc, "orig", None) or exc).splitlines()[0] if str(exc) else ""
            raise click.ClickException(f"{type(exc).__name__}: {text}") from exc

    return wrapper


@dataclass(frozen=True, slots=True)
class PlatformContext:
    settings: Settings
    sessions: async_sessionmaker[AsyncSession]
    vault: Vault


@asynccontextmanager
async def platform_context(settings: Settings) -> AsyncIterator[PlatformContext]:
    url = await resolve_platform_url(settings)
    engine = create_platform_engine(url, pool_size=2)
    sessions = session_factory(engine)
    vault = Vault(settings.keyring)
    try:
        async with sessions() as session, session.begin():
            server = await register_default_server(session, vault, url)
        await harden_server(server, vault, also=(url.database,) if url.database else ())
        yield PlatformContext(settings, sessions, vault)
    finally:
        await engine.dispose()
