"""Custom domains: the owner proves one in DNS (a real resolver asks a DNS server on loopback),
then the school answers on it; admins may verify by hand; every verification is audited."""

from __future__ import annotations

import socket
from collections.abc import AsyncIterator, Iterator
from typing import Any

import pytest
from litestar.testing import AsyncTestClient
from sqlalchemy.engine import URL

from kitehub.app import create_app
from kitehub.settings import Settings
from tests.client import ConcurrentTestClient
from tests.conftest import TenantFactory, bearer
from tests.dns_server import TxtRecords, txt_server
from tests.platform.api import admin_headers, audit_rows, create_instance, owner_headers

DOMAIN = "hoc.truong-lan.vn"


@pytest.fixture
def dns() -> Iterator[tuple[TxtRecords, str]]:
    with txt_server() as served:
        yield served


@pytest.fixture
async def dns_client(settings: Settings, dns: tuple[TxtRecords, str]) -> AsyncIterator[AsyncTestClient[Any]]:
    configured = settings.model_copy(update={"dns_nameservers": dns[1], "dns_timeout_seconds": 2.0})
    async with ConcurrentTestClient(create_app(configured)) as client:
        yield client


async def _set_domain(client: AsyncTestClient[Any], headers: dict[str, str], instance_id: str, domain: str) -> Any:
    response = await client.patch(f"/api/v1/instances/{instance_id}", json={"custom_domain": domain}, headers=headers)
    assert response.status_code == 200, response.text
    return response.json()["custom_domain_verification"]


async def test_an_owner_proves_a_domain_in_dns_and_the_school_answers_on_it(
    make_tenant: TenantFactory,
    settings: Settings,
    dns: tuple[TxtRecords, str],
    dns_client: AsyncTestClient[Any],
    platform_url: URL,
) -> None:
    records, _ = dns
    school = await make_tenant()
    owner = bearer(settings, school.owner_id)
    instance = f"/api/v1/instances/{school.id}"
    on_domain = {**owner, "Host": DOMAIN}

    wanted = await _set_domain(dns_client, owner, str(school.id), DOMAIN.upper())
    assert wanted["record_type"] == "TXT"
    assert wanted["record_name"] == f"_kitehub.{DOMAIN}"
    assert wanted["record_value"].startswith("kitehub-verify=")
    assert (wanted["verified"], wanted["verified_at"]) == (False, None)
    assert (await dns_client.get(f"{instance}/custom-domain", headers=owner)).json() == wanted
    assert (await dns_client.get("/tenant/v1/health", headers=on_domain)).status_code == 404  # not yet proven

    missing = await dns_client.post(f"{instance}/custom-domain/verify", headers=owner)
    assert missing.status_code == 422, missing.text
    assert missing.headers["content-type"].startswith("application/problem+json")
    assert missing.json()["record_name"] == f"_kitehub.{DOMAIN}"
    records.publish(f"_kitehub.{DOMAIN}", "kitehub-verify=someone-elses-token")
    assert (await dns_client.post(f"{instance}/custom-domain/verify", headers=owner)).status_code == 422

    records.publish(f"_kitehub.{DOMAIN}", "v=spf1 -all", wanted["record_value"])
    verified = await dns_client.post(f"{instance}/custom-domain/verify", headers=owner)
    assert verified.status_code == 200, verified.text
    assert verified.json()["verified"] is True
    assert f"_kitehub.{DOMAIN}" in records.queries  # a real lookup reached the DNS server

    health = await dns_client.get("/tenant/v1/health", headers=on_domain)
    assert health.status_code == 200, health.text
    assert health.json()["subdomain"] == school.subdomain
    (audit,) = await audit_rows(platform_url, "instance.custom_domain_verify")
    assert audit["actor_id"] == school.owner_id
    assert '"verification_method": "dns"' in audit["after"]

    moved = await _set_domain(dns_client, owner, str(school.id), "other.truong-lan.vn")
    assert moved["verified"] is False
    assert moved["record_value"] != wanted["record_value"]  # a new domain, a new token
    assert (await dns_client.get("/tenant/v1/health", headers=on_domain)).status_code == 404
    update = (await audit_rows(platform_url, "instance.update"))[-1]
    assert '"custom_domain_verified_at": null' in update["after"]


async def test_a_domain_verified_by_one_instance_cannot_be_verified_by_another(
    dns: tuple[TxtRecords, str], dns_client: AsyncTestClient[Any]
) -> None:
    records, _ = dns
    first_owner, second_owner = await owner_headers(dns_client), await owner_headers(dns_client)
    first = await create_instance(dns_client, first_owner)
    second = await create_instance(dns_client, second_owner)
    first_record = await _set_domain(dns_client, first_owner, first["id"], DOMAIN)
    second_record = await _set_domain(dns_client, second_owner, second["id"], DOMAIN)  # a claim blocks nobody
    records.publish(first_record["record_name"], first_record["record_value"], second_record["record_value"])

    ok = await dns_client.post(f"/api/v1/instances/{first['id']}/custom-domain/verify", headers=first_owner)
    assert ok.status_code == 200, ok.text
    taken = await dns_client.post(f"/api/v1/instances/{second['id']}/custom-domain/verify", headers=second_owner)
    assert taken.status_code == 409, taken.text
    assert "another instance" in taken.json()["detail"]
    assert (await dns_client.get(f"/api/v1/instances/{second['id']}", headers=second_owner)).json()[
        "custom_domain_verification"
    ]["verified"] is False


async def test_dns_that_does_not_answer_is_a_503_with_retry_after(settings: Settings) -> None:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as silent:  # receives queries, answers none
        silent.bind(("127.0.0.1", 0))
        configured = settings.model_copy(
            update={"dns_nameservers": f"127.0.0.1:{silent.getsockname()[1]}", "dns_timeout_seconds": 0.5}
        )
        async with ConcurrentTestClient(create_app(configured)) as client:
            owner = await owner_headers(client)
            instance = await create_instance(client, owner)
            await _set_domain(client, owner, instance["id"], DOMAIN)
            response = await client.post(f"/api/v1/instances/{instance['id']}/custom-domain/verify", headers=owner)
    assert response.status_code == 503, response.text
    assert response.headers["retry-after"]
    assert response.headers["content-type"].startswith("application/problem+json")


async def test_an_admin_verifies_by_hand_and_it_is_audited(
    dns_client: AsyncTestClient[Any], platform_sessions: Any, platform_url: URL
) -> None:
    owner = await owner_headers(dns_client)
    instance = await create_instance(dns_client, owner)
    admin = await admin_headers(dns_client, platform_sessions)
    by_hand = f"/api/v1/admin/instances/{instance['id']}/custom-domain/verify"
    assert (await dns_client.post(by_hand, headers=admin)).status_code == 404  # no custom domain yet
    assert (await dns_client.get(f"/api/v1/instances/{instance['id']}/custom-domain", headers=owner)).status_code == 404
    await _set_domain(dns_client, owner, instance["id"], DOMAIN)
    assert (await dns_client.post(by_hand, headers=owner)).status_code == 403

    verified = await dns_client.post(by_hand, headers=admin)
    assert verified.status_code == 200, verified.text
    assert verified.json()["verified"] is True
    (audit,) = await audit_rows(platform_url, "instance.custom_domain_verify")
    assert audit["actor_role"] == "admin"
    assert '"verification_method": "admin"' in audit["after"]
