"""Property-based run of the whole OpenAPI document (schemathesis, in-process): no input may
produce a 5xx, every status answered is documented, and every answer matches its schema."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pydantic import SecretStr
from schemathesis.checks import not_a_server_error
from schemathesis.core.result import Ok
from schemathesis.specs.openapi.checks import response_schema_conformance, status_code_conformance
from sqlalchemy.engine import URL

from kitehub.app import create_app
from kitehub.db import create_platform_engine, session_factory
from kitehub.platform.accounts.models import AccountRole
from kitehub.platform.accounts.services import create_account
from kitehub.platform.accounts.tokens import issue_access_token
from kitehub.platform.audit.services import SYSTEM
from kitehub.platform.instances.lifecycle import transition
from kitehub.platform.instances.models import InstanceStatus
from kitehub.platform.instances.services import request_instance
from kitehub.settings import Settings
from tests.conftest import make_settings
from tests.dns_server import txt_server
from tests.support import create_database, drop_database


async def _seed(url: URL) -> tuple[uuid.UUID, uuid.UUID, list[uuid.UUID]]:
    """An owner and an admin, and the owner's instances in several states for the fuzzer to hit."""
    engine = create_platform_engine(url, pool_size=1)
    try:
        async with session_factory(engine)() as session, session.begin():
            owner = await create_account(session, email="fuzz@owner.vn", password="fuzz-owner-pw", full_name="Owner")
            admin = await create_account(
                session, email="fuzz@admin.vn", password="fuzz-admin-pw", full_name="Admin", role=AccountRole.ADMIN
            )
            instances = [
                await request_instance(session, SYSTEM, owner_id=owner.id, subdomain=f"fuzz-{n}",
                                       organization_name="Fuzz", tier_code="BASIC", trial_days=14,
                                       max_instances=0)
                for n in range(3)
            ]  # fmt: skip
            transition(session, instances[1], InstanceStatus.FAILED, reason="seeded")
            transition(session, instances[2], InstanceStatus.FAILED, reason="seeded")
            transition(session, instances[2], InstanceStatus.DELETED, reason="seeded")
            return owner.id, admin.id, [instance.id for instance in instances]
    finally:
        await engine.dispose()


@pytest.fixture(scope="module")
def fuzz_dns() -> Iterator[str]:
    """Custom-domain checks get real DNS answers (no such record) from a server on loopback."""
    with txt_server() as (_, nameservers):
        yield nameservers


@pytest.fixture(scope="module")
def fuzz_target(
    server_url: URL, platform_template: str, tmp_path_factory: pytest.TempPathFactory, fuzz_dns: str
) -> Iterator[tuple[Any, Settings, dict[str, uuid.UUID], list[uuid.UUID]]]:
    name = f"kitehub_fuzz_{uuid.uuid4().hex[:8]}"
    url = asyncio.run(create_database(server_url, name, template=platform_template))
    settings = make_settings(Path(tmp_path_factory.mktemp("fuzz")), url).model_copy(
        update={  # payments configured, so the fuzzer reaches the real order and webhook paths
            "dns_nameservers": fuzz_dns,
            "platform_bank_bin": "970436",
            "platform_bank_account": "0071000888999",
            "platform_bank_account_name": "KITEHUB",
            "bank_webhook_api_key": SecretStr("fuzz-sepay-key"),
            "casso_webhook_secret": SecretStr("fuzz-casso-secret"),
            "auth_rate_limit": 0,  # past 20 log-ins a minute the fuzzer would reach nothing but 429s
        }
    )
    owner_id, admin_id, instance_ids = asyncio.run(_seed(url))
    app = create_app(settings)
    yield app, settings, {"owner": owner_id, "admin": admin_id}, instance_ids
    from schemathesis.python.asgi import shutdown_lifespans

    shutdown_lifespans()
    asyncio.run(drop_database(server_url, name))


def test_no_input_breaks_the_api(fuzz_target: tuple[Any, Settings, dict[str, uuid.UUID], list[uuid.UUID]]) -> None:
    app, app_settings, accounts, instance_ids = fuzz_target
    assert app_settings.jwt_secret is not None
    secret = app_settings.jwt_secret.get_secret_value()
    api = schemathesis.openapi.from_asgi("/schema/openapi.json", app)
    results = list(api.get_all_operations())
    operations = [result.ok() for result in results if isinstance(result, Ok)]
    assert len(operations) == len(results), "every operation of the document must load"
    assert len(operations) >= 15  # the whole API, not an empty document

    tokens = {role: issue_access_token(secret, account, role).token for role, account in accounts.items()}

    @given(
        case=st.sampled_from(operations).flatmap(lambda operation: operation.as_strategy()),
        pick=st.integers(min_value=0, max_value=len(instance_ids) * 3 - 1),
    )
    @settings(max_examples=25 * len(operations), deadline=None, suppress_health_check=list(HealthCheck), database=None)
    def check(case: Any, pick: int) -> None:
        if case.path_parameters and "instance_id" in case.path_parameters and pick < len(instance_ids) * 2:
            case.path_parameters["instance_id"] = str(instance_ids[pick % len(instance_ids)])  # a real instance
        role = "admin" if case.path.startswith("/api/v1/admin") else "owner"
        authorization = "Apikey fuzz-sepay-key" if case.path == "/api/v1/webhooks/sepay" else f"Bearer {tokens[role]}"
        response = case.call_and_validate(
            headers={"Authorization": authorization},
            checks=[not_a_server_error, status_code_conformance, response_schema_conformance],
        )
        seen[response.status_code] = seen.get(response.status_code, 0) + 1

    seen: dict[int, int] = {}
    check()
    print("statuses seen:", sorted(seen.items()))
    # not a vacuous run: requests got past authentication and validation, and many succeeded
    assert sum(n for status, n in seen.items() if status < 300) >= len(operations), seen
    assert seen.get(422, 0) > 0, seen
