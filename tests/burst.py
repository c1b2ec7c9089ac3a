"""Requests sent at the same moment, each from a client address of its own (as a botnet would, so
per-address limits do not serialise them and the service's own concurrency is what is tested)."""

from __future__ import annotations

import asyncio
import contextlib
from typing import Any

import httpx

from tests.client import ConcurrentTestClient


def address(n: int) -> str:
    return f"10.{n // 65536 % 256}.{n // 256 % 256}.{n % 256}"


async def burst(
    client: ConcurrentTestClient, requests: list[dict[str, Any]], *, first: int = 1
) -> list[httpx.Response]:
    """Send every request (keyword arguments of ``client.request``) at once, request ``i`` from
    address ``first + i``; the answers in the order of the requests."""
    async with contextlib.AsyncExitStack() as stack:
        clients = [
            await stack.enter_async_context(client.from_address(address(first + n))) for n in range(len(requests))
        ]
        return list(await asyncio.gather(*(c.request(**r) for c, r in zip(clients, requests, strict=True))))
