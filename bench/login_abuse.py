"""A real log-in while bogus log-ins hammer the platform: p50 latency, as a ratio to an idle one.

Runs a real ``kitehub serve`` (uvicorn, one process, no job worker) on a throw-away embedded
PostgreSQL, with the default settings (``KITEHUB_AUTH_RATE_LIMIT`` 20, or ``--rate-limit``). One account logs in for
real, one log-in at a time: first with nothing else going on (idle), then while an attacker keeps
``--bogus`` log-ins in flight without pause (each a wrong password for a random address, sent again
as soon as it is answered, 429s included). Every party has a loopback address of its own
(127.0.0.2 the idle user, 127.0.0.3 the attacker, 127.0.0.4 the user under attack), as distinct
clients would; ``--spread`` gives each bogus connection an address of its own instead (a botnet),
which the per-address limits do not help with. Prints both p50s, the ratio (target <= 2x) and what
the attacker got: password checks (401) and refusals (429). Linux (binds 127.0.0.x).

Usage: uv run python -m bench.login_abuse [--bogus 30] [--logins 15] [--spread] [--rate-limit 20]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import socket
import statistics
import sys
import tempfile
import time
import uuid
from collections import Counter

import httpx

from bench.common import bench_platform
from kitehub.platform.accounts.services import create_account

EMAIL, PASSWORD = "real.user@school.vn", "the-real-password-1"
TARGET_RATIO = 2.0


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def client(base_url: str, address: str) -> httpx.AsyncClient:
    transport = httpx.AsyncHTTPTransport(local_address=address)
    return httpx.AsyncClient(base_url=base_url, transport=transport, timeout=60)


async def wait_ready(base_url: str, process: asyncio.subprocess.Process) -> None:
    async with httpx.AsyncClient(base_url=base_url, timeout=2) as probe:
        for _ in range(300):
            if process.returncode is not None:
                raise SystemExit(f"kitehub serve exited with {process.returncode}")
            try:
                if (await probe.get("/health/ready")).status_code == 200:
                    return
            except httpx.TransportError:
                pass
            await asyncio.sleep(0.2)
    raise SystemExit("kitehub serve was not ready within 60 s")


async def real_logins(base_url: str, address: str, count: int) -> list[float]:
    """``count`` log-ins of the real account, one after another, 0.2-0.6 s apart (arriving at no
    particular moment of the attacker's requests); seconds each."""
    took: list[float] = []
    pauses = random.Random(count)  # noqa: S311 - reproducible pauses, not a secret
    async with client(base_url, address) as user:
        for _ in range(count):
            began = time.perf_counter()
            answer = await user.post("/api/v1/auth/login", json={"email": EMAIL, "password": PASSWORD})
            took.append(time.perf_counter() - began)
            assert answer.status_code == 200, answer.text
            await asyncio.sleep(pauses.uniform(0.2, 0.6))  # a person, not a loop
    return took


async def attack(base_url: str, addresses: list[str], stop: asyncio.Event, seen: Counter[int]) -> None:
    """One connection per address in ``addresses``, each sending bogus log-ins back to back."""

    async def hammer(address: str) -> None:
        async with client(base_url, address) as bot:
            while not stop.is_set():
                body = {"email": f"bot-{uuid.uuid4().hex[:10]}@example.com", "password": "not-the-password"}
                seen[(await bot.post("/api/v1/auth/login", json=body)).status_code] += 1

    await asyncio.gather(*(hammer(address) for address in addresses))


async def main(bogus: int, logins: int, spread: bool, rate_limit: int) -> None:
    async with bench_platform() as platform:
        async with platform.sessions() as session, session.begin():
            await create_account(session, email=EMAIL, password=PASSWORD, full_name="Real User")
        port = free_port()
        base_url = f"http://127.0.0.1:{port}"
        with tempfile.TemporaryDirectory(prefix="kitehub-bench-serve-") as data_dir:
            env = {
                **{name: value for name, value in os.environ.items() if not name.startswith("KITEHUB_")},
                "KITEHUB_DATABASE_URL": platform.url.render_as_string(hide_password=False),
                "KITEHUB_ENCRYPTION_KEYS": platform.encryption_keys,
                "KITEHUB_JWT_SECRET": uuid.uuid4().hex * 2,
                "KITEHUB_DATA_DIR": data_dir,
                "KITEHUB_LOG_LEVEL": "WARNING",
                "KITEHUB_AUTH_RATE_LIMIT": str(rate_limit),
            }
            command = [sys.executable, "-m", "kitehub.cli", "serve", "--host", "127.0.0.1", "--port", str(port),
                       "--no-migrate", "--no-worker"]  # fmt: skip
            process = await asyncio.create_subprocess_exec(
                *command, env=env, stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.DEVNULL
            )
            try:
                await wait_ready(base_url, process)
                await real_logins(base_url, "127.0.0.2", 2)  # warm-up (imports, pools)
                idle = await real_logins(base_url, "127.0.0.2", logins)
                stop, seen = asyncio.Event(), Counter[int]()
                attacker = [f"127.0.1.{n + 1}" for n in range(bogus)] if spread else ["127.0.0.3"] * bogus
                attacking = asyncio.create_task(attack(base_url, attacker, stop, seen))
                await asyncio.sleep(1.0)  # the burst is in full swing
                loaded = await real_logins(base_url, "127.0.0.4", logins)
                stop.set()
                await attacking
            finally:
                process.terminate()
                await asyncio.wait_for(process.wait(), timeout=30)
    idle_p50, loaded_p50 = statistics.median(idle), statistics.median(loaded)
    ratio = loaded_p50 / idle_p50
    who = f"{bogus} addresses" if spread else "one address"
    print(f"real log-in p50 idle:                            {idle_p50 * 1000:7.1f} ms  ({logins} log-ins)")
    print(f"real log-in p50 with {bogus} bogus in flight ({who}): {loaded_p50 * 1000:7.1f} ms")
    print(f"ratio: {ratio:.2f}x (target <= {TARGET_RATIO:.0f}x) -> {'PASS' if ratio <= TARGET_RATIO else 'MISS'}")
    print(f"bogus answers meanwhile: {dict(sorted(seen.items()))} (401 = a password was checked, 429 = refused)")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--bogus", type=int, default=30, help="bogus log-ins kept in flight")
    parser.add_argument("--logins", type=int, default=15, help="real log-ins measured, idle and under attack")
    parser.add_argument("--spread", action="store_true", help="each bogus connection from an address of its own")
    parser.add_argument("--rate-limit", type=int, default=20, help="KITEHUB_AUTH_RATE_LIMIT of the server")
    arguments = parser.parse_args()
    asyncio.run(main(arguments.bogus, arguments.logins, arguments.spread, arguments.rate_limit))
