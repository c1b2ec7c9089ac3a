"""Log-in under abuse: per-address rate limits on the password and token endpoints, a burst that
cannot delay someone else's log-in, and concurrent log-ins that never answer 409."""

from __future__ import annotations

import asyncio
import uuid
from collections import Counter
from typing import Any

import httpx
from litestar.testing import AsyncTestClient
from sqlalchemy.engine import URL

from kitehub.app import create_app
from kitehub.settings import Settings
from tests.burst import burst
from tests.client import ConcurrentTestClient
from tests.platform.api import owner_headers
from tests.support import connect

LOGIN = "/api/v1/auth/login"
RIGHT = "correct-horse-1"  # owner_headers' password


def _login(email: str, password: str) -> dict[str, Any]:
    return {"method": "POST", "url": LOGIN, "json": {"email": email, "password": password}}


async def test_two_correct_logins_at_once_both_succeed(client: AsyncTestClient[Any]) -> None:
    assert isinstance(client, ConcurrentTestClient)
    await owner_headers(client, "twice@school.vn")
    answers = await burst(client, [_login("twice@school.vn", RIGHT)] * 2)
    assert [answer.status_code for answer in answers] == [200, 200], [answer.text for answer in answers]


async def test_a_burst_of_wrong_passwords_counts_five_then_locks(
    client: AsyncTestClient[Any], platform_url: URL
) -> None:
    assert isinstance(client, ConcurrentTestClient)
    await owner_headers(client, "burst@school.vn")
    answers = await burst(client, [_login("burst@school.vn", "wrong-password")] * 12)
    async with connect(platform_url) as conn:
        failures = await conn.fetchval("SELECT failures FROM login_attempts WHERE email = 'burst@school.vn'")
    assert Counter(answer.status_code for answer in answers) == {401: 5, 429: 7}, [answer.text for answer in answers]
    assert failures == 5


async def test_the_right_password_during_a_burst_is_never_409(client: AsyncTestClient[Any]) -> None:
    assert isinstance(client, ConcurrentTestClient)
    await owner_headers(client, "mixed@school.vn")
    wrong, right = _login("mixed@school.vn", "wrong-password"), _login("mixed@school.vn", RIGHT)
    answers = await burst(client, [wrong] * 2 + [right] + [wrong] * 2 + [right])  # too few to lock
    assert [answer.status_code for answer in answers] == [401, 401, 200] * 2, [answer.text for answer in answers]


async def test_the_21st_auth_request_of_an_address_in_a_minute_is_429(client: AsyncTestClient[Any]) -> None:
    assert isinstance(client, ConcurrentTestClient)
    async with client.from_address("192.0.2.7") as attacker, client.from_address("192.0.2.8") as other:
        answers = [
            await attacker.post(LOGIN, json={"email": f"nobody-{n}@school.vn", "password": "wrong-password"})
            for n in range(20)
        ]
        limited = await attacker.post(LOGIN, json={"email": "nobody-x@school.vn", "password": "wrong-password"})
        signup = await attacker.post(
            "/api/v1/auth/signup", json={"email": "new@school.vn", "password": "long-enough-1", "full_name": "N"}
        )
        elsewhere = await other.post(
            "/api/v1/auth/signup", json={"email": "new@school.vn", "password": "long-enough-1", "full_name": "N"}
        )
    assert [answer.status_code for answer in answers] == [401] * 20
    assert limited.status_code == 429
    assert 1 <= int(limited.headers["retry-after"]) <= 60
    assert limited.headers["content-type"].startswith("application/problem+json")
    assert limited.json()["type"] == "urn:kitehub:problem:too-many-requests"
    assert signup.status_code == 429  # one budget for every password and token endpoint
    assert elsewhere.status_code == 201  # per address


async def test_a_rate_limit_of_zero_turns_it_off(settings: Settings) -> None:
    unlimited = settings.model_copy(update={"auth_rate_limit": 0})
    async with ConcurrentTestClient(create_app(unlimited)) as client:
        answers = [
            await client.post(LOGIN, json={"email": f"nobody-{n}@school.vn", "password": "wrong-password"})
            for n in range(25)
        ]
    assert [answer.status_code for answer in answers] == [401] * 25


async def test_a_burst_from_one_address_does_not_delay_a_login_from_another(client: AsyncTestClient[Any]) -> None:
    """Password checks are slow and few run at once: a burst from one address waits its own turn
    instead of queueing ahead of everyone (measured by completion order, not by the clock)."""
    assert isinstance(client, ConcurrentTestClient)
    await owner_headers(client, "real@school.vn")
    done: list[str] = []

    async def send(sender: httpx.AsyncClient, email: str, password: str, name: str) -> int:
        answer = await sender.post(LOGIN, json={"email": email, "password": password})
        if answer.status_code != 429:  # a password was checked
            done.append(name)
        return answer.status_code

    async with client.from_address("192.0.2.66") as attacker, client.from_address("192.0.2.10") as user:
        bogus = [
            asyncio.create_task(send(attacker, f"bot-{uuid.uuid4().hex[:8]}@x.vn", "wrong-password", "bogus"))
            for _ in range(30)
        ]
        await asyncio.sleep(0.05)  # the burst is in flight
        real = await send(user, "real@school.vn", RIGHT, "real")
        statuses = Counter(await asyncio.gather(*bogus))
    assert real == 200
    assert set(statuses) <= {401, 429}
    password_checks_first = done[: done.index("real")].count("bogus")
    assert password_checks_first <= 4, done
