"""Enrollment fees: a VietQR order to the school's own account, paid by its webhook or by hand."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

import pytest
from litestar.testing import AsyncTestClient
from sqlalchemy.engine import URL

from kitehub.app import create_app
from kitehub.platform.payments.vietqr import parse
from kitehub.settings import Settings
from tests.client import ConcurrentTestClient
from tests.conftest import TenantFactory, bearer, make_settings
from tests.platform.api import admin_headers
from tests.platform.billing.support import BANK_ACCOUNT, BANK_BIN, SEPAY_KEY, fetch, sepay_body, sepay_headers
from tests.tenant.support import School

SCHOOL_BIN, SCHOOL_ACCOUNT = "970415", "0011001932418"


@pytest.fixture
def settings(tmp_path: Path, platform_url: URL) -> Settings:
    """The platform's own account and webhook configured too (school and platform money side by side)."""
    return make_settings(tmp_path / "data", platform_url).model_copy(
        update={
            "platform_bank_bin": BANK_BIN,
            "platform_bank_account": BANK_ACCOUNT,
            "platform_bank_account_name": "CONG TY KITEHUB",
            "bank_webhook_api_key": SEPAY_KEY,
        }
    )


SCHOOL_KEY = "truong-lan-sepay-key-9f8e7d6c"


async def _school_with_bank(client: AsyncTestClient[Any], settings: Settings, make_tenant: TenantFactory) -> School:
    tenant = await make_tenant()
    school = School(tenant, client, bearer(settings, tenant.owner_id))
    bank = await client.put(
        f"/api/v1/instances/{tenant.id}/bank-account",
        json={"bank_code": SCHOOL_BIN, "account_number": SCHOOL_ACCOUNT, "account_name": "TRUONG LAN",
              "qr_template": "HOCPHI {courseId} {studentName}"},
        headers=school.owner,
    )  # fmt: skip
    assert bank.status_code == 200, bank.text
    key = await client.put(f"/api/v1/instances/{tenant.id}/webhook-key", json={"api_key": SCHOOL_KEY},
                           headers=school.owner)  # fmt: skip
    assert key.status_code == 200, key.text
    assert SCHOOL_KEY not in key.text  # a secret never comes back
    return school


async def _pending_enrollment(school: School) -> dict[str, Any]:
    course = await school.make("/courses", {"name": "Tieng Anh", "fee": 800_000})
    student = await school.make("/students", {"full_name": "Nguyễn Thị Lan"})
    return await school.make("/enrollments", {"student_id": student["id"], "course_id": course["id"]})


async def test_the_school_webhook_pays_the_fee_and_the_enrollment_becomes_active(
    worker_client: AsyncTestClient[Any], settings: Settings, make_tenant: TenantFactory, platform_url: URL
) -> None:
    school = await _school_with_bank(worker_client, settings, make_tenant)
    enrollment = await _pending_enrollment(school)
    assert enrollment["status"] == "PENDING"

    ordered = await school.call("POST", f"/enrollments/{enrollment['id']}/payment-order")
    again = await school.call("POST", f"/enrollments/{enrollment['id']}/payment-order")

    assert ordered.status_code == 201, ordered.text
    order = ordered.json()
    assert again.json()["order_code"] == order["order_code"]  # one order while it waits
    decoded = parse(order["qr_payload"])
    assert (decoded["bank_bin"], decoded["account"], decoded["amount"]) == (SCHOOL_BIN, SCHOOL_ACCOUNT, 800_000)
    assert order["transfer_content"].startswith(f"{order['order_code']} HOCPHI ")
    assert len(order["transfer_content"]) <= 25
    png = await worker_client.get(f"/api/v1/payment-orders/{order['order_code']}/qr.png", headers=school.owner)
    assert png.content.startswith(b"\x89PNG")

    path = f"/api/v1/webhooks/sepay/instances/{school.tenant.id}"
    body = sepay_body(f"{order['transfer_content']} chuyen khoan", 800_000, accountNumber=SCHOOL_ACCOUNT)
    wrong_key = await worker_client.post(path, json=body, headers={"Authorization": "Apikey guess-guess-guess-guess"})
    paid = await worker_client.post(path, json=body, headers={"Authorization": f"Apikey {SCHOOL_KEY}"})

    assert wrong_key.status_code == 401
    assert paid.status_code == 200, paid.text
    for _ in range(100):  # the worker flips the tenant's enrollment
        current = (await school.call("GET", f"/enrollments/{enrollment['id']}")).json()
        if current["status"] == "ACTIVE":
            break
        await asyncio.sleep(0.1)
    assert current["status"] == "ACTIVE"
    assert current["payment_reference"] == order["order_code"]
    [row] = await fetch(platform_url, "SELECT instance_id, status FROM bank_transactions")
    assert (row["instance_id"], row["status"]) == (school.tenant.id, "matched")


async def test_the_school_webhook_pays_only_that_school_enrollments(
    worker_client: AsyncTestClient[Any], settings: Settings, make_tenant: TenantFactory, platform_url: URL
) -> None:
    school = await _school_with_bank(worker_client, settings, make_tenant)
    other = await _school_with_bank(worker_client, settings, make_tenant)
    enrollment = await _pending_enrollment(other)
    order = (await other.call("POST", f"/enrollments/{enrollment['id']}/payment-order")).json()

    on_wrong_school = await worker_client.post(
        f"/api/v1/webhooks/sepay/instances/{school.tenant.id}",
        json=sepay_body(order["transfer_content"], 800_000, accountNumber=SCHOOL_ACCOUNT),
        headers={"Authorization": f"Apikey {SCHOOL_KEY}"},
    )

    assert on_wrong_school.status_code == 200  # stored, never dropped...
    assert (await worker_client.get(f"/api/v1/payment-orders/{order['order_code']}", headers=other.owner)).json()[
        "status"
    ] == "PENDING"  # ...but it pays nothing of another school
    [row] = await fetch(platform_url, "SELECT status FROM bank_transactions")
    assert row["status"] == "needs_review"


async def test_the_school_marks_a_fee_paid_by_hand(
    worker_client: AsyncTestClient[Any], settings: Settings, make_tenant: TenantFactory, platform_url: URL
) -> None:
    school = await _school_with_bank(worker_client, settings, make_tenant)
    enrollment = await _pending_enrollment(school)
    order = (await school.call("POST", f"/enrollments/{enrollment['id']}/payment-order")).json()
    teacher = await school.staff("teacher", "thay@truong.vn")

    by_teacher = await school.call("POST", f"/enrollments/{enrollment['id']}/mark-paid", headers=teacher)
    marked = await school.call("POST", f"/enrollments/{enrollment['id']}/mark-paid", json={"reference": "PHIEU 12"})
    twice = await school.call("POST", f"/enrollments/{enrollment['id']}/mark-paid")

    assert by_teacher.status_code == 403
    assert marked.status_code == 200, marked.text
    assert marked.json()["status"] == "ACTIVE"
    assert twice.status_code == 409
    paid = (await worker_client.get(f"/api/v1/payment-orders/{order['order_code']}", headers=school.owner)).json()
    assert paid["status"] == "PAID"
    [audit] = await fetch(platform_url, "SELECT actor_role, after FROM audit_log WHERE action = 'enrollment.mark_paid'")
    assert audit["actor_role"] == "tenant_admin"
    assert json.loads(audit["after"])["reference"] == "PHIEU 12"


async def test_no_bank_account_no_fee_order(make_tenant: TenantFactory, settings: Settings) -> None:
    tenant = await make_tenant()
    async with ConcurrentTestClient(create_app(settings)) as client:
        school = School(tenant, client, bearer(settings, tenant.owner_id))
        enrollment = await _pending_enrollment(school)
        response = await school.call("POST", f"/enrollments/{enrollment['id']}/payment-order")
        free_course = await school.make("/courses", {"name": "Mien phi"})
        student = await school.make("/students", {"full_name": "B"})
        free = await school.make("/enrollments", {"student_id": student["id"], "course_id": free_course["id"]})
        nothing_to_pay = await school.call("POST", f"/enrollments/{free['id']}/payment-order")
    assert response.status_code == 409
    assert "bank-account" in response.json()["detail"]
    assert nothing_to_pay.status_code == 409


async def test_a_school_delivery_never_shadows_the_platform_one_with_the_same_id(
    worker_client: AsyncTestClient[Any], settings: Settings, make_tenant: TenantFactory, platform_url: URL
) -> None:
    school = await _school_with_bank(worker_client, settings, make_tenant)
    shared_id = 777_000_001
    await worker_client.post(
        f"/api/v1/webhooks/sepay/instances/{school.tenant.id}",
        json=sepay_body("anything", 1, transaction_id=shared_id, accountNumber=SCHOOL_ACCOUNT),
        headers={"Authorization": f"Apikey {SCHOOL_KEY}"},
    )
    subscription_order = (await worker_client.post(
        "/api/v1/payment-orders",
        json={"instance_id": str(school.tenant.id), "type": "SUBSCRIPTION", "tier": "BASIC", "months": 1},
        headers=school.owner,
    )).json()  # fmt: skip

    await worker_client.post(
        "/api/v1/webhooks/sepay",
        json=sepay_body(subscription_order["transfer_content"], subscription_order["amount"], transaction_id=shared_id),
        headers=sepay_headers(),
    )

    paid = await worker_client.get(f"/api/v1/payment-orders/{subscription_order['order_code']}", headers=school.owner)
    assert paid.json()["status"] == "PAID"
    assert len(await fetch(platform_url, "SELECT 1 FROM bank_transactions")) == 2


async def test_a_changed_fee_replaces_the_waiting_order_and_only_one_can_be_paid(
    worker_client: AsyncTestClient[Any], settings: Settings, make_tenant: TenantFactory, platform_url: URL
) -> None:
    school = await _school_with_bank(worker_client, settings, make_tenant)
    enrollment = await _pending_enrollment(school)
    first = (await school.call("POST", f"/enrollments/{enrollment['id']}/payment-order")).json()
    await school.call("PATCH", f"/courses/{enrollment['course_id']}", json={"fee": 900_000})
    second = (await school.call("POST", f"/enrollments/{enrollment['id']}/payment-order")).json()

    marked = await school.call("POST", f"/enrollments/{enrollment['id']}/mark-paid")
    late = await worker_client.post(
        f"/api/v1/webhooks/sepay/instances/{school.tenant.id}",
        json=sepay_body(first["transfer_content"], 800_000, accountNumber=SCHOOL_ACCOUNT),
        headers={"Authorization": f"Apikey {SCHOOL_KEY}"},
    )

    assert (first["amount"], second["amount"]) == (800_000, 900_000)
    assert marked.status_code == 200
    statuses = {
        row["order_code"]: row["status"]
        for row in await fetch(platform_url, "SELECT order_code, status FROM payment_orders")
    }
    assert statuses == {first["order_code"]: "CANCELLED", second["order_code"]: "PAID"}
    assert late.status_code == 200
    [kept] = await fetch(platform_url, "SELECT status FROM bank_transactions")
    assert kept["status"] == "needs_review"


async def test_platform_admins_cannot_pay_a_school_fee(
    worker_client: AsyncTestClient[Any], settings: Settings, make_tenant: TenantFactory, platform_sessions: Any
) -> None:
    school = await _school_with_bank(worker_client, settings, make_tenant)
    enrollment = await _pending_enrollment(school)
    order = (await school.call("POST", f"/enrollments/{enrollment['id']}/payment-order")).json()
    admin = await admin_headers(worker_client, platform_sessions)

    confirmed = await worker_client.post(f"/api/v1/admin/payment-orders/{order['order_code']}/confirm", headers=admin)

    assert confirmed.status_code == 409


async def test_many_school_deliveries_at_once_are_all_answered(
    worker_client: AsyncTestClient[Any], settings: Settings, make_tenant: TenantFactory, platform_url: URL
) -> None:
    school = await _school_with_bank(worker_client, settings, make_tenant)
    path = f"/api/v1/webhooks/sepay/instances/{school.tenant.id}"
    bodies = [sepay_body(f"chuyen khoan {n}", 1_000 + n, accountNumber=SCHOOL_ACCOUNT) for n in range(40)]

    # more than the platform pool's 20 connections: a request must not hold one while its batch waits
    answers = await asyncio.wait_for(
        asyncio.gather(*(worker_client.post(path, json=body, headers={"Authorization": f"Apikey {SCHOOL_KEY}"})
                         for body in bodies)),
        timeout=20,
    )  # fmt: skip

    assert [answer.status_code for answer in answers] == [200] * 40
    assert len(await fetch(platform_url, "SELECT 1 FROM bank_transactions")) == 40
