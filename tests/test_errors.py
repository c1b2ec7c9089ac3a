"""Every error is RFC 9457 problem details with the request id; internals never leak."""

from __future__ import annotations

from dataclasses import dataclass

from litestar import get, post
from litestar.params import JSONBody
from litestar.testing import AsyncTestClient
from pydantic import BaseModel, ConfigDict, Field

from kitehub.app import create_app
from kitehub.errors import ConflictError
from kitehub.settings import Settings


class Widget(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str = Field(min_length=3)
    size: int = Field(ge=1)


@dataclass
class Created:
    name: str


@post("/test-widgets")
async def create_widget(data: JSONBody[Widget]) -> Created:
    return Created(name=data.name)


@get("/test-conflict")
async def conflict() -> None:
    raise ConflictError("subdomain 'acme' is taken", extra={"field": "subdomain"})


@get("/test-crash")
async def crash() -> None:
    raise RuntimeError("password=hunter2 leaked")


def _client(settings: Settings) -> AsyncTestClient:  # type: ignore[type-arg]
    app = create_app(settings)
    for handler in (create_widget, conflict, crash):
        app.register(handler)
    return AsyncTestClient(app=app, raise_server_exceptions=False)


def _assert_problem(response: object, status: int) -> dict[str, object]:
    assert getattr(response, "status_code") == status  # noqa: B009
    headers = getattr(response, "headers")  # noqa: B009
    assert headers["content-type"].startswith("application/problem+json")
    body: dict[str, object] = getattr(response, "json")()  # noqa: B009
    assert body["status"] == status
    assert isinstance(body["title"], str)
    assert body["title"]
    assert isinstance(body["type"], str)
    assert body["request_id"] == headers["x-request-id"]
    return body


async def test_unknown_route_is_a_404_problem(client: AsyncTestClient) -> None:  # type: ignore[type-arg]
    response = await client.get("/api/v1/nothing-here")
    body = _assert_problem(response, 404)
    assert body["instance"] == "/api/v1/nothing-here"
    assert body["type"] == "about:blank"


async def test_wrong_method_is_a_405_problem_with_allow(client: AsyncTestClient) -> None:  # type: ignore[type-arg]
    response = await client.delete("/health/live")
    _assert_problem(response, 405)
    assert "GET" in response.headers["allow"]


async def test_invalid_body_is_a_422_listing_the_fields(settings: Settings) -> None:
    async with _client(settings) as client:
        response = await client.post("/test-widgets", json={"name": "x", "size": 0, "colour": "red"})
    body = _assert_problem(response, 422)
    assert body["type"] == "urn:kitehub:problem:validation-error"
    errors = body["errors"]
    assert isinstance(errors, list)
    assert {error["field"] for error in errors} == {"name", "size", "colour"}
    assert all(error["message"] for error in errors)


async def test_malformed_json_is_a_4xx_problem(settings: Settings) -> None:
    async with _client(settings) as client:
        response = await client.post(
            "/test-widgets", content=b"{not json", headers={"content-type": "application/json"}
        )
    assert 400 <= response.status_code < 500
    _assert_problem(response, response.status_code)


async def test_domain_error_keeps_its_status_detail_and_extras(settings: Settings) -> None:
    async with _client(settings) as client:
        response = await client.get("/test-conflict")
    body = _assert_problem(response, 409)
    assert body["type"] == "urn:kitehub:problem:conflict"
    assert body["detail"] == "subdomain 'acme' is taken"
    assert body["field"] == "subdomain"


async def test_unexpected_error_is_a_500_without_internals(settings: Settings) -> None:
    async with _client(settings) as client:
        response = await client.get("/test-crash")
    body = _assert_problem(response, 500)
    assert "hunter2" not in response.text
    assert "Traceback" not in response.text
    assert "request id" in str(body["detail"])


async def test_unknown_docs_paths_are_problems_too(client: AsyncTestClient) -> None:  # type: ignore[type-arg]
    response = await client.get("/schema/redoc")
    _assert_problem(response, 404)


async def test_a_server_error_keeps_its_status_and_retry_after(settings: Settings) -> None:
    from litestar.exceptions import HTTPException

    @get("/test-unavailable")
    async def unavailable() -> None:
        raise HTTPException(status_code=503, detail="db password=hunter2", headers={"Retry-After": "30"})

    app = create_app(settings)
    app.register(unavailable)
    async with AsyncTestClient(app=app, raise_server_exceptions=False) as client:
        response = await client.get("/test-unavailable")
    _assert_problem(response, 503)
    assert response.headers["retry-after"] == "30"
    assert "hunter2" not in response.text
