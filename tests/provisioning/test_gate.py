from __future__ import annotations

import uuid

import pytest

from kitehub.errors import (
    KiteHubError,
    NotFoundError,
    PaymentRequiredError,
    PermissionDeniedError,
    ServiceUnavailableError,
)
from kitehub.migrate import OLDEST_SUPPORTED_TENANT_REVISION
from kitehub.platform.instances.models import InstanceStatus as I
from kitehub.platform.subscriptions.models import SubscriptionStatus as S
from kitehub.provisioning.gate import check_access
from kitehub.provisioning.resolution import LookupKey, ResolvedTenant, lookup_key


def _tenant(status: I, subscription: S | None = S.TRIAL) -> ResolvedTenant:
    return ResolvedTenant(
        uuid.uuid4(),
        "acme",
        uuid.uuid4(),
        status,
        subscription,
        OLDEST_SUPPORTED_TENANT_REVISION,
        None,
        None,
        None,
        None,
        None,
        None,
    )


@pytest.mark.parametrize(
    ("status", "subscription", "method", "expected"),
    [
        (I.READY, S.TRIAL, "POST", None),
        (I.READY, S.ACTIVE, "DELETE", None),
        (I.READY, S.PAST_DUE, "PUT", None),
        (I.READY, S.EXPIRED, "GET", None),
        (I.READY, S.CANCELED, "HEAD", None),
        (I.READY, S.EXPIRED, "POST", PaymentRequiredError),
        (I.READY, S.CANCELED, "PATCH", PaymentRequiredError),
        (I.SUSPENDED, S.ACTIVE, "GET", PermissionDeniedError),
        (I.PROVISIONING, S.TRIAL, "GET", ServiceUnavailableError),
        (I.FAILED, S.TRIAL, "GET", ServiceUnavailableError),
        (I.DELETED, S.ACTIVE, "GET", NotFoundError),
        (I.PURGED, S.ACTIVE, "GET", NotFoundError),
    ],
)
def test_the_access_gate(status: I, subscription: S, method: str, expected: type[KiteHubError] | None) -> None:
    tenant = _tenant(status, subscription)
    if expected is None:
        assert check_access(tenant, method) is tenant
    else:
        with pytest.raises(expected):
            check_access(tenant, method)


def test_not_ready_answers_say_when_to_retry() -> None:
    with pytest.raises(ServiceUnavailableError) as excinfo:
        check_access(_tenant(I.PROVISIONING), "GET")
    assert int(excinfo.value.headers["Retry-After"]) > 0


def test_unknown_instances_are_not_found() -> None:
    with pytest.raises(NotFoundError):
        check_access(None, "GET")


@pytest.mark.parametrize(
    ("host", "header", "expected"),
    [
        ("acme.kitehub.localhost", None, LookupKey("subdomain", "acme")),
        ("ACME.kitehub.localhost:8000", None, LookupKey("subdomain", "acme")),
        ("acme.kitehub.localhost.", None, LookupKey("subdomain", "acme")),
        ("hoc.example.vn", None, LookupKey("domain", "hoc.example.vn")),
        ("kitehub.localhost", "acme", LookupKey("subdomain", "acme")),
        ("127.0.0.1:8000", " Acme ", LookupKey("subdomain", "acme")),
        ("[::1]:8000", "acme", LookupKey("subdomain", "acme")),
        ("localhost", None, None),
        (None, None, None),
        ("acme.kitehub.localhost", "acme", LookupKey("subdomain", "acme")),
        ("api.kitehub.localhost", None, None),
        ("api.kitehub.localhost", "acme", LookupKey("subdomain", "acme")),
        ("platform.example.com", "acme", LookupKey("subdomain", "acme")),
    ],
)
def test_lookup_keys(host: str | None, header: str | None, expected: LookupKey | None) -> None:
    assert lookup_key(host, header, "kitehub.localhost") == expected


@pytest.mark.parametrize("revision", [None, "t0000-older"])
def test_a_tenant_older_than_the_code_supports_is_503(revision: str | None) -> None:
    tenant = ResolvedTenant(
        uuid.uuid4(), "acme", uuid.uuid4(), I.READY, S.ACTIVE, revision, None, None, None, None, None, None
    )
    if revision is None:
        with pytest.raises(ServiceUnavailableError) as excinfo:
            check_access(tenant, "GET")
        assert int(excinfo.value.headers["Retry-After"]) > 0
    else:  # a revision unknown to this code is a newer release's: it is served
        assert check_access(tenant, "GET") is tenant
