from __future__ import annotations

from typing import Any

from litestar.testing import AsyncTestClient


async def test_tiers_are_public_and_priced_in_vnd(client: AsyncTestClient[Any]) -> None:
    response = await client.get("/api/v1/tiers")  # no token needed
    assert response.status_code == 200
    tiers = {tier["code"]: tier for tier in response.json()}
    assert list(tiers) == ["BASIC", "STANDARD", "PREMIUM"]
    assert tiers["BASIC"] == {
        "code": "BASIC",
        "name": "Basic",
        "monthly_price": 199_000,
        "features": {"engagement": False, "media": False, "premium": False},
        "limitations": {"max_students": 50, "max_courses": 10},
        "storage_limit_bytes": 0,
    }
    assert tiers["PREMIUM"]["limitations"] == {"max_students": None, "max_courses": None}
    assert tiers["STANDARD"]["storage_limit_bytes"] == 5 * 1024**3
