"""The OpenAPI document lists the problems each operation can answer, for routes added later too."""

from __future__ import annotations

import uuid
from pathlib import Path
from typing import Any

from litestar import Litestar, post
from litestar.di import NamedDependency
from litestar.params import FromPath, JSONBody
from pydantic import BaseModel
from sqlalchemy.engine import make_url

from kitehub.app import create_app
from kitehub.errors import PROBLEM_JSON
from kitehub.platform.accounts.models import Account
from tests.conftest import make_settings

PROBLEM_SCHEMA = {"$ref": "#/components/schemas/ProblemDetails"}


class Thing(BaseModel):
    owner_id: uuid.UUID


@post("/test-things/{thing_id:uuid}/notes", status_code=201)
async def note_a_thing(
    thing_id: FromPath[uuid.UUID], data: JSONBody[Thing], current_account: NamedDependency[Account]
) -> None:
    """A route registered after the app is built, as another area would add one."""


def _app(tmp_path: Path) -> Litestar:
    """The app as built for serving; its document needs no database (no lifespan runs)."""
    return create_app(make_settings(tmp_path, make_url("postgresql+asyncpg://nobody@127.0.0.1:1/none")))


def _operations(app: Litestar) -> dict[tuple[str, str], dict[str, Any]]:
    document = app.openapi_schema.to_schema()
    return {
        (method.upper(), path): operation
        for path, item in document["paths"].items()
        for method, operation in item.items()
        if isinstance(operation, dict) and "responses" in operation
    }


def test_every_problem_is_documented_as_problem_details(tmp_path: Path) -> None:
    operations = _operations(_app(tmp_path))
    assert len(operations) >= 80
    for (method, path), operation in operations.items():
        responses = operation["responses"]
        assert "503" in responses, (method, path)
        for status, response in responses.items():
            if int(status) >= 400:
                assert response["content"] == {PROBLEM_JSON: {"schema": PROBLEM_SCHEMA}}, (method, path, status)
                assert response["description"], (method, path, status)


def test_what_a_route_has_decides_its_problems(tmp_path: Path) -> None:
    operations = _operations(_app(tmp_path))

    def statuses(method: str, path: str) -> set[int]:
        return {int(status) for status in operations[method, path]["responses"] if int(status) >= 400}

    assert statuses("GET", "/health/live") == {503}
    assert statuses("GET", "/api/v1/me") == {401, 503}
    assert statuses("GET", "/api/v1/instances/{instance_id}") == {400, 401, 404, 422, 503}
    assert statuses("GET", "/api/v1/admin/instances") == {400, 401, 403, 422, 503}
    assert statuses("POST", "/api/v1/payment-orders") == {400, 401, 404, 409, 413, 422, 503}  # an id in the body
    assert statuses("POST", "/api/v1/auth/login") == {400, 401, 413, 422, 429, 503}  # declared; never 409
    assert statuses("POST", "/api/v1/webhooks/casso") == {400, 401, 409, 413, 422, 503}
    assert statuses("GET", "/tenant/v1/courses") == {400, 401, 403, 404, 422, 503}
    assert statuses("POST", "/tenant/v1/courses") == {400, 401, 402, 403, 404, 409, 413, 422, 503}


def test_a_route_added_later_is_documented_too(tmp_path: Path) -> None:
    app = _app(tmp_path)
    app.register(note_a_thing)
    responses = _operations(app)["POST", "/test-things/{thing_id}/notes"]["responses"]
    assert set(responses) == {"201", "400", "401", "404", "409", "413", "422", "503"}


def test_every_rate_limited_operation_documents_429(tmp_path: Path) -> None:
    """The password and token endpoints (``auth_limited``) answer 429 beyond the rate: documented."""
    operations = _operations(_app(tmp_path))
    limited = [
        ("POST", "/api/v1/auth/signup"),
        ("POST", "/api/v1/auth/login"),
        ("POST", "/tenant/v1/auth/login"),
        ("POST", "/tenant/v1/users"),
        ("PATCH", "/tenant/v1/users/{user_id}"),
        ("PUT", "/api/v1/instances/{instance_id}/webhook-key"),
    ]
    for operation in limited:
        assert "429" in operations[operation]["responses"], operation
    assert "429" not in operations[("GET", "/api/v1/me")]["responses"]
