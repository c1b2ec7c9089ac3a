from __future__ import annotations

import re

from litestar.testing import AsyncTestClient


async def test_every_answer_carries_a_request_id(client: AsyncTestClient) -> None:  # type: ignore[type-arg]
    first = await client.get("/health/live")
    second = await client.get("/missing")
    ids = {first.headers["x-request-id"], second.headers["x-request-id"]}
    assert len(ids) == 2
    assert all(re.fullmatch(r"[0-9a-f]{32}", value) for value in ids)


async def test_a_sane_caller_request_id_is_kept(client: AsyncTestClient) -> None:  # type: ignore[type-arg]
    response = await client.get("/health/live", headers={"X-Request-ID": "lb-7f3a.1"})
    assert response.headers["x-request-id"] == "lb-7f3a.1"


async def test_an_unsafe_caller_request_id_is_replaced(client: AsyncTestClient) -> None:  # type: ignore[type-arg]
    response = await client.get("/health/live", headers={"X-Request-ID": "x" * 300})
    assert response.headers["x-request-id"] != "x" * 300
    assert len(response.headers["x-request-id"]) == 32


async def test_openapi_document_describes_the_api(client: AsyncTestClient) -> None:  # type: ignore[type-arg]
    response = await client.get("/schema/openapi.json")
    assert response.status_code == 200
    document = response.json()
    assert document["openapi"].startswith("3.")
    assert document["info"]["title"] == "KiteHub"
    assert {"/health/live", "/health/ready"} <= set(document["paths"])
    docs = await client.get("/schema")
    assert docs.status_code == 200
    assert "text/html" in docs.headers["content-type"]
