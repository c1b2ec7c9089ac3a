"""Fleet migration speed: tenants/s for a no-op run and for one real revision.

Provisions N tenants (default 200) on a throw-away embedded PostgreSQL, then runs the fleet
runner at concurrency 1, 4 and 8: once with every tenant at the target (no-op), once moving
every tenant one revision (the test-only revision of tests/provisioning/fleet_revisions, undone
after each measurement). Prints the figures scaled to 1,000 tenants beside the targets
(no-op <= 10 s, one revision <= 60 s).

Usage: uv run python -m bench.fleet_migrate [-n 200]
"""

from __future__ import annotations

import argparse
import asyncio
import time
import uuid
from pathlib import Path

from bench.common import bench_platform
from kitehub.migrate import extra_version_locations, head_revision
from kitehub.platform.accounts.services import ensure_owner_account
from kitehub.platform.instances.services import create_instance
from kitehub.provisioning.fleet import FleetOptions, FleetRunner
from kitehub.provisioning.provisioner import Provisioner

TEST_REVISIONS = Path(__file__).resolve().parent.parent / "tests" / "provisioning" / "fleet_revisions"
BASE = str(head_revision("tenant"))  # the real head, below the test-only revision
TARGETS = {"no-op": 10.0, "one revision": 60.0}  # seconds for 1,000 tenants


async def main(count: int) -> None:
    async with bench_platform() as platform:
        sessions, vault = platform.sessions, platform.vault
        async with sessions() as session, session.begin():
            owner = await ensure_owner_account(session, "bench@example.com")
            ids = [
                (await create_instance(session, owner_id=owner.id, subdomain=f"f-{uuid.uuid4().hex[:12]}",
                                       organization_name="bench", tier_code="BASIC", trial_days=14)).id
                for _ in range(count)
            ]  # fmt: skip
        provisioner = Provisioner(sessions, vault)
        started = time.perf_counter()
        gate = asyncio.Semaphore(8)

        async def provision(instance_id: uuid.UUID) -> None:
            async with gate:
                await provisioner.provision(instance_id)

        await asyncio.gather(*(provision(instance_id) for instance_id in ids))
        print(f"provisioned {count} tenants in {time.perf_counter() - started:.1f} s")
        print()
        print(f"{'run':<14}{'concurrency':>12}{'tenants/s':>11}{'1,000 tenants':>15}{'target':>9}")
        runner = FleetRunner(sessions, vault)
        verdicts = []
        with extra_version_locations("tenant", TEST_REVISIONS):
            for concurrency in (1, 4, 8):
                for label, target in (("no-op", BASE), ("one revision", "head")):
                    started = time.perf_counter()
                    report = await runner.run(FleetOptions(target=target, concurrency=concurrency,
                                                           per_server=concurrency))  # fmt: skip
                    elapsed = time.perf_counter() - started
                    assert report.ok, report.stopped_early
                    scaled = elapsed / count * 1000
                    verdicts.append((label, concurrency, scaled <= TARGETS[label]))
                    print(
                        f"{label:<14}{concurrency:>12}{count / elapsed:>11.1f}{scaled:>13.1f} s{TARGETS[label]:>7.0f} s"
                    )
                assert (await runner.run(FleetOptions(target=BASE, concurrency=concurrency))).ok  # undo
        print()
        for label, concurrency, met in verdicts:
            print(f"{'PASS' if met else 'MISS'}  {label} at concurrency {concurrency}: 1,000 tenants within "
                  f"{TARGETS[label]:.0f} s")  # fmt: skip


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("-n", "--tenants", type=int, default=200)
    asyncio.run(main(parser.parse_args().tenants))
