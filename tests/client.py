"""A test client whose requests run concurrently.

Litestar's ``AsyncTestClient`` runs the app in a thread of its own (a blocking portal) and waits
for each response there, so requests a test sends together with ``asyncio.gather`` are handled one
after another: a test of "50 concurrent uploads" would prove nothing about concurrency. This
client keeps Litestar's interface but sends requests through httpx's ASGI transport, on the test's
own event loop, so they interleave at every ``await`` like they do under a server.
"""

from __future__ import annotations

import asyncio
from types import TracebackType
from typing import Self

import httpx
from litestar import Litestar
from litestar.testing import AsyncTestClient
from litestar.testing.client.base import BaseTestClient

BASE_URL = "http://testserver.local"


class ConcurrentTestClient(AsyncTestClient[Litestar]):
    """``AsyncTestClient`` (its type and helpers) with a transport that serves requests concurrently."""

    def __init__(self, app: Litestar, *, base_url: str = BASE_URL) -> None:
        BaseTestClient.__init__(self, app=app, base_url=base_url)
        httpx.AsyncClient.__init__(
            self,
            base_url=base_url,
            headers={"user-agent": "testclient"},
            follow_redirects=True,
            transport=httpx.ASGITransport(app=app),  # type: ignore[arg-type]  # errors raise, as with Litestar's
        )
        self._stop = asyncio.Event()
        self._lifespan: asyncio.Task[None] | None = None

    def from_address(self, host: str) -> httpx.AsyncClient:
        """Another client of the same running app whose requests come from ``host`` (the ASGI
        ``client`` address), for limits kept per client address."""
        return httpx.AsyncClient(
            base_url=str(self.base_url),
            headers={"user-agent": "testclient"},
            transport=httpx.ASGITransport(app=self.app, client=(host, 50000)),
        )

    async def __aenter__(self) -> Self:
        # the app's lifespan runs in a task of its own: it must end in the task it began in (anyio's
        # cancel scopes), and a fixture's set-up and tear-down may run in different tasks
        started = asyncio.Event()

        async def run() -> None:
            async with self.app.lifespan():
                started.set()
                await self._stop.wait()

        self._lifespan = asyncio.get_running_loop().create_task(run())
        ready = asyncio.ensure_future(started.wait())
        await asyncio.wait({ready, self._lifespan}, return_when=asyncio.FIRST_COMPLETED)
        if not started.is_set():
            ready.cancel()
            await self._lifespan  # raises what start-up raised
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None = None,
        exc_value: BaseException | None = None,
        traceback: TracebackType | None = None,
    ) -> None:
        try:
            self._stop.set()
            if self._lifespan is not None:
                await self._lifespan
        finally:
            await httpx.AsyncClient.aclose(self)
