"""Nightly retention in every tenant: guest data older than 90 days is deleted, and so are the
staff log-in failures that no longer affect a lockout (``kitehub.lockout.forget_idle_failures``;
the school's ``login_attempts`` table would otherwise keep every address ever tried)."""

from __future__ import annotations

from datetime import UTC, datetime

import procrastinate
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from kitehub.jobs import runtime_of
from kitehub.lockout import forget_idle_failures
from kitehub.logs import get_logger
from kitehub.platform.instances.models import Instance
from kitehub.provisioning.tenant_access import TenantGoneError, tenant_session
from kitehub.provisioning.tenant_config import REACHABLE, TenantNotReadyError
from kitehub.provisioning.vault import Vault
from kitehub.tenant.guests.services import purge_old
from kitehub.tenant.users.login_attempts import StaffLoginAttempts

PURGE = "tenant.purge_guest_data"
QUEUE = "maintenance"
STAFF_FAILURES_PER_NIGHT = 100_000  # per school: far more addresses than a day of guessing leaves

logger = get_logger(__name__)


async def purge_everywhere(
    sessions: async_sessionmaker[AsyncSession], vault: Vault, now: datetime
) -> dict[str, tuple[int, int]]:
    """Per subdomain, (sessions, events) deleted (idle staff log-in failures go too); a tenant out
    of reach is skipped and logged."""
    async with sessions() as session:
        instances = list(
            await session.execute(select(Instance.id, Instance.subdomain).where(Instance.status.in_(REACHABLE)))
        )
    purged = {}
    for instance_id, subdomain in instances:
        try:
            async with tenant_session(sessions, vault, instance_id) as tenant:
                purged[subdomain] = await purge_old(tenant, now)
                await forget_idle_failures(tenant, StaffLoginAttempts, now, limit=STAFF_FAILURES_PER_NIGHT)
        except (TenantGoneError, TenantNotReadyError):
            continue  # deleted, or not there yet: nothing to keep short
        except Exception as exc:  # one broken tenant must not keep every other one's old data
            logger.warning("guest data not purged", subdomain=subdomain, error=type(exc).__name__)
    return purged


async def purge_guest_data(context: procrastinate.JobContext, timestamp: int) -> None:
    runtime = runtime_of(context)
    purged = await purge_everywhere(runtime.sessions, runtime.vault, datetime.now(UTC))
    logger.info("guest data purged", tenants=len(purged), rows=sum(a + b for a, b in purged.values()))


def register_tasks(app: procrastinate.App) -> None:
    task = app.task(name=PURGE, queue=QUEUE, pass_context=True, queueing_lock=PURGE)(purge_guest_data)
    app.periodic(cron="17 3 * * *", periodic_id="guest-retention")(task)
