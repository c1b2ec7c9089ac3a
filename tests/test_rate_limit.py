"""The per-client limiter and turns, on their own (the endpoints' behaviour is tested through HTTP)."""

from __future__ import annotations

import asyncio

import pytest

from kitehub.errors import TooManyRequestsError
from kitehub.rate_limit import RateLimiter, Turns, client_address


def test_a_window_counts_per_key_and_zero_means_no_limit() -> None:
    limiter, unlimited = RateLimiter(3), RateLimiter(0)
    for _ in range(3):
        limiter.check("a")
    with pytest.raises(TooManyRequestsError) as refused:
        limiter.check("a")
    assert 1 <= int(refused.value.headers["Retry-After"]) <= 60
    limiter.check("b")
    for _ in range(1000):
        unlimited.check("a")


async def test_turns_serve_one_holder_per_key_in_arrival_order_and_forget_idle_keys() -> None:
    turns, order, inside = Turns(), [], {"a": 0, "b": 0}
    most = {"a": 0, "b": 0}

    async def hold(key: str, n: int) -> None:
        async with turns.take(key):
            inside[key] += 1
            most[key] = max(most[key], inside[key])
            await asyncio.sleep(0.01)
            order.append((key, n))
            inside[key] -= 1

    await asyncio.gather(*(hold("a", n) for n in range(5)), *(hold("b", n) for n in range(5)))
    assert most == {"a": 1, "b": 1}
    assert [n for key, n in order if key == "a"] == list(range(5))
    assert order[:2] in ([("a", 0), ("b", 0)], [("b", 0), ("a", 0)])  # keys do not wait for each other
    assert len(turns) == 0


@pytest.mark.parametrize(
    ("host", "key"),
    [
        ("203.0.113.7", "203.0.113.7"),
        ("2001:db8:1:2:aaaa::1", "2001:db8:1:2::/64"),
        ("2001:db8:1:2:ffff:ffff:ffff:ffff", "2001:db8:1:2::/64"),  # the same subscriber's /64
        ("::ffff:203.0.113.7", "203.0.113.7"),  # an IPv4 client on a dual-stack socket
        ("testclient", "testclient"),
    ],
)
def test_an_ipv6_client_is_one_key_for_its_whole_64(host: str, key: str) -> None:
    assert client_address({"client": (host, 1234)}) == key  # type: ignore[arg-type]
