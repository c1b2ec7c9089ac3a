from __future__ import annotations

import pytest
from sqlalchemy.engine import URL
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from kitehub.errors import ServiceUnavailableError
from kitehub.provisioning.key_rotation import key_usage, rotate_keys
from kitehub.provisioning.router import TenantRouter
from kitehub.provisioning.servers import register_server
from kitehub.provisioning.vault import Vault
from kitehub.setting_values import generate_encryption_key, parse_encryption_keys
from kitehub.settings import Settings
from kitehub.tenant.health.services import tenant_health
from tests.conftest import TenantFactory
from tests.support import connect


async def test_rotation_re_encrypts_every_secret_and_the_old_key_can_go(
    make_tenant: TenantFactory,
    platform_sessions: async_sessionmaker[AsyncSession],
    vault: Vault,
    settings: Settings,
    server_url: URL,
) -> None:
    tenants = [await make_tenant() for _ in range(3)]
    async with platform_sessions() as session, session.begin():
        await register_server(session, vault, name="spare", url=server_url.set(password="spare-pass"), max_tenants=1)
    old_kid = vault.active_kid
    new_keys = parse_encryption_keys(generate_encryption_key("rotated"))
    both = Vault(new_keys + settings.keyring)

    report = await rotate_keys(platform_sessions, both, batch_size=2)  # several batches

    assert report.rotated == {
        "instances.database_password_encrypted": 3,
        "database_servers.admin_password_encrypted": 1,
    }
    assert report.usage == {
        "instances.database_password_encrypted": {"rotated": 3},
        "database_servers.admin_password_encrypted": {"rotated": 1},
    }
    assert not report.failed
    assert report.still_on_old_keys == 0
    assert old_kid not in str(report.usage)

    # The old key removed from the keyring: every tenant is still reachable.
    only_new = Vault(new_keys)
    router = TenantRouter(
        platform_sessions=platform_sessions, vault=only_new, base_domain="kitehub.localhost", max_engines=2, pool_size=1
    )
    try:
        for tenant in tenants:
            resolved = await router.resolve(f"{tenant.subdomain}.kitehub.localhost", None, "GET")
            async with router.session(resolved) as session:
                assert (await tenant_health(session)).instance == tenant.id
    finally:
        await router.close()

    again = await rotate_keys(platform_sessions, both)  # nothing left to do
    assert sum(again.rotated.values()) == 0


async def test_a_ciphertext_copied_to_another_row_is_refused_and_reported(
    make_tenant: TenantFactory,
    platform_sessions: async_sessionmaker[AsyncSession],
    vault: Vault,
    settings: Settings,
    platform_url: URL,
) -> None:
    a, b = await make_tenant(), await make_tenant()
    async with connect(platform_url) as conn:
        await conn.execute(
            "UPDATE instances SET database_password_encrypted = $1 WHERE id = $2", a.database_password_encrypted, b.id
        )
    both = Vault(parse_encryption_keys(generate_encryption_key("rotated")) + settings.keyring)
    report = await rotate_keys(platform_sessions, both)
    assert report.rotated["instances.database_password_encrypted"] == 1  # a's own value
    assert len(report.failed["instances.database_password_encrypted"]) == 1
    assert str(b.id) in report.failed["instances.database_password_encrypted"][0]
    async with platform_sessions() as session:
        usage = await key_usage(session)
    assert usage["instances.database_password_encrypted"] == {"rotated": 1, vault.active_kid: 1}

    router = TenantRouter(
        platform_sessions=platform_sessions, vault=both, base_domain="kitehub.localhost", max_engines=2, pool_size=1
    )
    try:
        resolved = await router.resolve(f"{b.subdomain}.kitehub.localhost", None, "GET")
        with pytest.raises(ServiceUnavailableError) as refused:  # a 503 for the client, details in the log
            async with router.session(resolved):
                pass
        assert refused.value.headers["Retry-After"]
        assert "does not belong" not in refused.value.detail
    finally:
        await router.close()
