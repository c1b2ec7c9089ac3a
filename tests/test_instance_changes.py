"""Read your own writes: a process that suspends an instance refuses its next request at once,
without waiting for the NOTIFY every other process relies on."""

from __future__ import annotations

import pytest
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from kitehub.db import committing
from kitehub.errors import KiteHubError
from kitehub.instance_changes import on_commit_forget
from kitehub.platform.instances.lifecycle import transition
from kitehub.platform.instances.models import Instance, InstanceStatus
from kitehub.provisioning.router import TenantRouter
from kitehub.provisioning.vault import Vault
from tests.conftest import TenantFactory

BASE = "kitehub.localhost"


async def test_a_suspension_committed_here_applies_to_the_next_request_here(
    make_tenant: TenantFactory, platform_sessions: async_sessionmaker[AsyncSession], vault: Vault
) -> None:
    tenant = await make_tenant()
    router = TenantRouter(platform_sessions=platform_sessions, vault=vault, base_domain=BASE, max_engines=2,
                          pool_size=1)  # fmt: skip  # not listening: no NOTIFY reaches it
    platform_sessions.configure(info=on_commit_forget(router.forget_cached))
    host = f"{tenant.subdomain}.{BASE}"
    try:
        assert (await router.resolve(host, None, "GET")).status is InstanceStatus.READY  # now cached

        async with platform_sessions() as session, committing(session):
            instance = await session.get(Instance, tenant.id)
            assert instance is not None
            transition(session, instance, InstanceStatus.SUSPENDED, reason="unpaid")

        with pytest.raises(KiteHubError) as refused:  # not served from the cache
            await router.resolve(host, None, "GET")
        assert refused.value.status_code == 403
    finally:
        await router.close()
