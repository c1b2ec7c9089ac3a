"""Test harness: one PostgreSQL server per session, one platform database per test.

The server is the embedded one (or ``KITEHUB_TEST_DATABASE_URL``). A template database is
migrated to head once; each test clones it with ``CREATE DATABASE ... TEMPLATE`` (tens of
milliseconds) and drops it afterwards, so tests are isolated without re-running migrations.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import tempfile
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from pathlib import Path

import pytest
from litestar.testing import AsyncTestClient
from sqlalchemy.engine import URL
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker, create_async_engine

import kitehub.platform.registry  # noqa: F401 - every platform table known to the mappers
from kitehub import pg_admin
from kitehub.app import create_app
from kitehub.db import create_platform_engine, normalise_url, session_factory
from kitehub.embedded_pg import EmbeddedServer, start_embedded_server
from kitehub.migrate import migrate_to
from kitehub.platform.accounts.services import ensure_owner_account
from kitehub.platform.accounts.tokens import issue_access_token
from kitehub.platform.instances.models import Instance
from kitehub.platform.instances.services import create_instance
from kitehub.provisioning.credentials import database_password_location, tenant_database_name, tenant_role_name
from kitehub.provisioning.models import DatabaseServer
from kitehub.provisioning.provisioner import Provisioner
from kitehub.provisioning.servers import harden_server, register_default_server
from kitehub.provisioning.vault import Vault
from kitehub.setting_values import generate_encryption_key
from kitehub.settings import Settings, get_settings, load_settings
from tests.client import ConcurrentTestClient
from tests.support import connect, create_database, drop_database

TEST_DATABASE_URL_VARIABLE = "KITEHUB_TEST_DATABASE_URL"
# Tests never ask the machine's resolver (off-machine): custom-domain checks go to loopback, where
# nothing answers on this port unless a test serves DNS itself (tests/dns_server.py).
NO_DNS = "127.0.0.1:9"


@pytest.fixture(scope="session", autouse=True)
def _clean_environment() -> Iterator[None]:
    """No developer's KITEHUB_* variables leak into tests (the test server URL excepted)."""
    with pytest.MonkeyPatch.context() as patch:
        for name in list(os.environ):
            if name.startswith("KITEHUB_") and name != TEST_DATABASE_URL_VARIABLE:
                patch.delenv(name)
        get_settings.cache_clear()
        yield
    get_settings.cache_clear()


@pytest.fixture(scope="session")
def embedded_server() -> Iterator[EmbeddedServer | None]:
    """The session's embedded server, or None when tests run against an external server.

    Its data directory is a temporary directory of its own, not one of pytest's numbered
    ``pytest-N`` directories: pytest keeps only the newest three of those and deletes the
    rest when a run starts, so a second ``pytest`` started on the machine meanwhile would
    delete this run's PostgreSQL data directory under the running server.
    """
    if os.environ.get(TEST_DATABASE_URL_VARIABLE):
        yield None
        return
    directory = Path(tempfile.mkdtemp(prefix="kitehub-test-pg-"))
    server = start_embedded_server(directory, stop_with_process=True)
    try:
        yield server
    finally:
        server.stop()
        shutil.rmtree(directory, ignore_errors=True)


@pytest.fixture(scope="session")
def server_url(embedded_server: EmbeddedServer | None) -> URL:
    """Superuser URL of the test server (database part irrelevant)."""
    if embedded_server is not None:
        return embedded_server.url("postgres")
    return normalise_url(os.environ[TEST_DATABASE_URL_VARIABLE])


async def _migrated_template(server_url: URL, name: str) -> None:
    url = await create_database(server_url, name)
    engine = create_async_engine(url)
    try:
        await migrate_to(engine, "platform", "head")
    finally:
        await engine.dispose()  # no session may stay connected to a template


@pytest.fixture(scope="session")
def platform_template(server_url: URL) -> Iterator[str]:
    name = f"kitehub_template_{uuid.uuid4().hex[:8]}"
    asyncio.run(_migrated_template(server_url, name))
    yield name
    asyncio.run(drop_database(server_url, name))


@pytest.fixture
async def fresh_database_url(server_url: URL) -> AsyncIterator[URL]:
    """An empty database of its own (for migration tests)."""
    name = f"kitehub_empty_{uuid.uuid4().hex[:12]}"
    url = await create_database(server_url, name)
    yield url
    await drop_database(server_url, name)


@pytest.fixture
async def platform_url(server_url: URL, platform_template: str) -> AsyncIterator[URL]:
    """A platform database at head, cloned from the session's template."""
    name = f"kitehub_test_{uuid.uuid4().hex[:12]}"
    url = await create_database(server_url, name, template=platform_template)
    yield url
    await drop_database(server_url, name)


def make_settings(data_dir: Path, database_url: URL) -> Settings:
    return load_settings(
        env="test",
        data_dir=data_dir,
        database_url=database_url.render_as_string(hide_password=False),
        encryption_keys=generate_encryption_key("test1"),
        jwt_secret=uuid.uuid4().hex + uuid.uuid4().hex,
        dns_nameservers=NO_DNS,
    )


@pytest.fixture
def settings(tmp_path: Path, platform_url: URL) -> Settings:
    return make_settings(tmp_path / "data", platform_url)


@pytest.fixture
async def client(settings: Settings) -> AsyncIterator[AsyncTestClient]:  # type: ignore[type-arg]
    """An httpx AsyncClient on the ASGI app, lifespan included."""
    async with ConcurrentTestClient(create_app(settings)) as test_client:
        yield test_client


# -- tenants -----------------------------------------------------------------------------------------


@pytest.fixture
def vault(settings: Settings) -> Vault:
    return Vault(settings.keyring)


@pytest.fixture
async def platform_sessions(platform_url: URL) -> AsyncIterator[async_sessionmaker[AsyncSession]]:
    engine = create_platform_engine(platform_url, pool_size=2)
    yield session_factory(engine)
    await engine.dispose()


@pytest.fixture
async def default_server(
    platform_sessions: async_sessionmaker[AsyncSession], vault: Vault, server_url: URL, platform_url: URL
) -> DatabaseServer:
    async with platform_sessions() as session, session.begin():
        server = await register_default_server(session, vault, server_url.set(database="postgres"))
    await harden_server(server, vault, also=(platform_url.database or "",))
    return server


@pytest.fixture
def provisioner(
    platform_sessions: async_sessionmaker[AsyncSession], vault: Vault, default_server: DatabaseServer
) -> Provisioner:
    return Provisioner(platform_sessions, vault, connection_limit=10)


TenantFactory = Callable[..., Awaitable[Instance]]


@pytest.fixture
async def make_tenant(
    platform_sessions: async_sessionmaker[AsyncSession], provisioner: Provisioner, server_url: URL
) -> AsyncIterator[TenantFactory]:
    """Create (and by default provision) instances; their databases and roles are dropped after."""
    created: list[uuid.UUID] = []

    async def make(subdomain: str | None = None, *, tier: str = "BASIC", provision: bool = True) -> Instance:
        async with platform_sessions() as session, session.begin():
            owner = await ensure_owner_account(session, "owner@example.com")
            instance = await create_instance(
                session,
                owner_id=owner.id,
                subdomain=subdomain or f"school-{uuid.uuid4().hex[:8]}",
                organization_name="A school",
                tier_code=tier,
                trial_days=14,
            )
        created.append(instance.id)
        if provision:
            await provisioner.provision(instance.id)
        async with platform_sessions() as session:
            fresh = await session.get(Instance, instance.id)
            assert fresh is not None
            return fresh

    yield make
    async with connect(server_url.set(database="postgres")) as admin:
        for instance_id in created:
            await pg_admin.drop_database(admin, tenant_database_name(instance_id))
            await admin.execute(f"DROP ROLE IF EXISTS {pg_admin.quote_ident(tenant_role_name(instance_id))}")


async def tenant_password(sessions: async_sessionmaker[AsyncSession], vault: Vault, instance_id: uuid.UUID) -> str:
    async with sessions() as session:
        instance = await session.get(Instance, instance_id)
        assert instance is not None
        assert instance.database_password_encrypted is not None
        return vault.decrypt(instance.database_password_encrypted, database_password_location(instance_id))


def tenant_url(server_url: URL, instance: Instance, password: str) -> URL:
    assert instance.database_name is not None
    return server_url.set(username=instance.database_role, password=password, database=instance.database_name)


def bearer(settings: Settings, account_id: uuid.UUID, role: str = "owner") -> dict[str, str]:
    """An Authorization header for ``account_id``, signed like the app signs them."""
    assert settings.jwt_secret is not None
    token = issue_access_token(settings.jwt_secret.get_secret_value(), account_id, role)
    return {"Authorization": f"Bearer {token.token}"}


@pytest.fixture
async def worker_client(settings: Settings, platform_url: URL, server_url: URL) -> AsyncIterator[AsyncTestClient]:  # type: ignore[type-arg]
    """The app with its job worker, as ``kitehub serve`` runs it; tenant databases dropped after."""
    async with ConcurrentTestClient(create_app(settings, with_worker=True)) as test_client:
        yield test_client
    async with connect(platform_url) as platform:
        names = [row["database_name"] for row in await platform.fetch("SELECT database_name FROM instances")]
    async with connect(server_url.set(database="postgres")) as admin:
        for name in filter(None, names):
            await pg_admin.drop_database(admin, name)
            await admin.execute(f"DROP ROLE IF EXISTS {pg_admin.quote_ident(name)}")


async def wait_for_status(client: AsyncTestClient, headers: dict[str, str], instance_id: str, status: str) -> dict:  # type: ignore[type-arg]
    """Poll the instance like a user would, until it reaches ``status`` (at most 30 s)."""
    for _ in range(300):
        response = await client.get(f"/api/v1/instances/{instance_id}", headers=headers)
        if response.status_code == 200 and response.json()["status"] == status:
            body: dict = response.json()  # type: ignore[type-arg]
            return body
        await asyncio.sleep(0.1)
    raise AssertionError(f"instance {instance_id} never became {status}: {response.text}")
