from __future__ import annotations

import pytest
from sqlalchemy.engine import URL
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from kitehub.errors import ConflictError
from kitehub.platform.instances.models import Instance
from kitehub.provisioning.models import DatabaseServer, DatabaseServerStatus
from kitehub.provisioning.provisioner import Provisioner, ProvisioningFailedError
from kitehub.provisioning.servers import (
    NoCapacityError,
    admin_password_location,
    choose_server,
    drain_server,
    list_servers,
    register_server,
    verify_server,
)
from kitehub.provisioning.vault import Vault
from tests.conftest import TenantFactory


async def _set_capacity(sessions: async_sessionmaker[AsyncSession], name: str, max_tenants: int) -> None:
    async with sessions() as session, session.begin():
        for usage in await list_servers(session):
            if usage.server.name == name:
                usage.server.max_tenants = max_tenants


async def test_new_tenants_go_to_the_active_server_with_most_free_capacity(
    make_tenant: TenantFactory,
    platform_sessions: async_sessionmaker[AsyncSession],
    vault: Vault,
    server_url: URL,
    default_server: DatabaseServer,
) -> None:
    async with platform_sessions() as session, session.begin():
        second = await register_server(session, vault, name="second", url=server_url, max_tenants=3)
    await _set_capacity(platform_sessions, "default", 2)

    placed = [await make_tenant() for _ in range(3)]
    # default: 2 free, second: 3 free -> second; then 2 vs 2 -> name order tie-break, then the other
    servers = [tenant.database_server_id for tenant in placed]
    assert servers[0] == second.id
    assert servers.count(second.id) == 2
    assert servers.count(default_server.id) == 1

    async with platform_sessions() as session:
        usage = {item.server.name: item.tenants for item in await list_servers(session)}
    assert usage == {"default": 1, "second": 2}


async def test_draining_and_full_servers_receive_no_new_tenants(
    make_tenant: TenantFactory,
    platform_sessions: async_sessionmaker[AsyncSession],
    provisioner: Provisioner,
) -> None:
    async with platform_sessions() as session, session.begin():
        drained = await drain_server(session, "default")
    assert drained.status is DatabaseServerStatus.DRAINING
    async with platform_sessions() as session, session.begin():
        with pytest.raises(NoCapacityError) as excinfo:
            await choose_server(session)
    assert excinfo.value.status_code == 409

    instance = await make_tenant(provision=False)
    with pytest.raises(ProvisioningFailedError, match="placement"):
        await provisioner.provision(instance.id)
    async with platform_sessions() as session:
        failed = await session.get(Instance, instance.id)
    assert failed is not None
    assert "every active database server is full or draining" in (failed.status_reason or "")


async def test_a_servers_admin_password_is_stored_encrypted(
    platform_sessions: async_sessionmaker[AsyncSession], vault: Vault, server_url: URL
) -> None:
    url = server_url.set(password="admin-pass-123")
    async with platform_sessions() as session, session.begin():
        server = await register_server(session, vault, name="with-password", url=url)
    assert server.admin_password_encrypted is not None
    assert "admin-pass-123" not in server.admin_password_encrypted
    assert vault.decrypt(server.admin_password_encrypted, admin_password_location(server.id)) == "admin-pass-123"
    async with platform_sessions() as session, session.begin():
        with pytest.raises(ConflictError, match="exists already"):
            await register_server(session, vault, name="with-password", url=url)


async def test_a_server_without_the_needed_privileges_is_refused(server_url: URL) -> None:
    await verify_server(server_url)  # the test server's superuser is fine
    with pytest.raises(ConflictError, match="cannot connect"):
        await verify_server(server_url.set(username="nobody_here"))
