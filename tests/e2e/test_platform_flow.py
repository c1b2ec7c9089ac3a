"""A new user's whole path through the real server, and the admin who suspends them."""

from __future__ import annotations

import time

import httpx

from tests.e2e.conftest import BOOTSTRAP_ADMIN, UA, RunningServer
from tests.e2e.conftest import token as _token


def test_sign_up_create_use_suspend_resume(running_server: RunningServer) -> None:
    with httpx.Client(base_url=running_server.base_url, timeout=30) as client:
        signup = client.post(
            "/api/v1/auth/signup",
            json={"email": "co.lan@truong.vn", "password": "mat-khau-rat-dai", "full_name": "Co Lan"},
            headers=UA,
        )
        assert signup.status_code == 201, signup.text
        owner = _token(client, "co.lan@truong.vn", "mat-khau-rat-dai")

        created = client.post(
            "/api/v1/instances", json={"subdomain": "truong-lan", "organization_name": "Truong Lan"}, headers=owner
        )
        assert created.status_code == 202, created.text
        location = created.headers["location"]

        deadline = time.monotonic() + 60
        while (status := client.get(location, headers=owner).json()["status"]) != "READY":
            assert status == "PROVISIONING", status
            assert time.monotonic() < deadline, "not READY within 60 s"
            time.sleep(0.2)

        tenant = {"Host": "truong-lan.kitehub.localhost", **owner}
        health = client.get("/tenant/v1/health", headers=tenant)
        assert health.status_code == 200, health.text
        assert health.json()["subdomain"] == "truong-lan"

        admin = _token(client, *BOOTSTRAP_ADMIN)
        instance_id = created.json()["id"]
        suspend = client.post(f"/api/v1/admin/instances/{instance_id}/suspend", json={"reason": "test"}, headers=admin)
        assert suspend.status_code == 200, suspend.text
        assert client.get("/tenant/v1/health", headers=tenant).status_code == 403

        assert client.post(f"/api/v1/admin/instances/{instance_id}/resume", headers=admin).status_code == 200
        assert client.get("/tenant/v1/health", headers=tenant).status_code == 200

        log = client.get("/api/v1/admin/audit-log?limit=200", headers=admin).json()["items"]
        audited = {"account.signup", "account.login", "instance.create", "instance.suspend", "instance.resume"}
        assert audited <= {entry["action"] for entry in log}
        for entry in log:
            if entry["action"] in audited:
                assert entry["ip"] == "127.0.0.1", entry
                assert entry["user_agent"] == UA["User-Agent"], entry
