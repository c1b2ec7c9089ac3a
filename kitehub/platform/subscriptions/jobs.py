"""Billing work done by the job queue: the minute sweep, tiers pushed into tenant databases, and
enrollments activated once their fee is paid."""

from __future__ import annotations

import uuid
from dataclasses import asdict
from datetime import UTC, datetime
from functools import partial

import procrastinate
from procrastinate.jobs import Job
from procrastinate.retry import BaseRetryStrategy, RetryDecision

from kitehub.jobs import runtime_of
from kitehub.logs import get_logger
from kitehub.platform.payments.enrollment_orders import ACTIVATE_ENROLLMENT
from kitehub.platform.subscriptions.config_push import PUSH_CONFIG, QUEUE
from kitehub.platform.subscriptions.sweeps import sweep
from kitehub.platform.subscriptions.tenant_usage import read_usage
from kitehub.provisioning.tenant_access import TenantGoneError, tenant_session
from kitehub.provisioning.tenant_config import push_instance_config
from kitehub.tenant.enrollments.payments import activate_paid

SWEEP = "billing.sweep"
MAX_RETRY_WAIT_SECONDS = 600

logger = get_logger(__name__)


class RetryForever(BaseRetryStrategy):
    """A tenant must end up with its tier: retry without end, backing off to every 10 minutes."""

    def get_retry_decision(self, *, exception: BaseException, job: Job) -> RetryDecision | None:
        return RetryDecision(retry_in={"seconds": min(MAX_RETRY_WAIT_SECONDS, 5 * 2 ** min(job.attempts, 10))})


async def push_config(context: procrastinate.JobContext, instance_id: str) -> None:
    runtime = runtime_of(context)
    outcome = await push_instance_config(runtime.sessions, runtime.vault, uuid.UUID(instance_id))
    logger.info("instance config pushed", instance_id=instance_id, outcome=outcome.value)


async def sweep_billing(context: procrastinate.JobContext, timestamp: int) -> None:
    """Every minute; several workers may run it at once (the sweeps skip each other's rows)."""
    runtime = runtime_of(context)

    report = await sweep(runtime.sessions, datetime.now(UTC), grace_days=runtime.settings.grace_days,
                         usage_of=partial(read_usage, runtime.sessions, runtime.vault))  # fmt: skip
    if any(asdict(report).values()):
        logger.info("billing sweep", **asdict(report))


async def activate_enrollment(
    context: procrastinate.JobContext, instance_id: str, enrollment_id: str, order_code: str, paid_at: str
) -> None:
    """A school's enrollment fee was paid: the tenant's enrollment becomes ACTIVE (retried until it is)."""
    runtime = runtime_of(context)
    try:
        async with tenant_session(runtime.sessions, runtime.vault, uuid.UUID(instance_id)) as session:
            await activate_paid(session, uuid.UUID(enrollment_id), order_code=order_code,
                                paid_at=datetime.fromisoformat(paid_at))  # fmt: skip
    except TenantGoneError:
        logger.info("paid enrollment of a deleted instance", instance_id=instance_id, order_code=order_code)


def register_tasks(app: procrastinate.App) -> None:
    app.task(name=ACTIVATE_ENROLLMENT, queue=QUEUE, pass_context=True, retry=RetryForever())(activate_enrollment)
    app.task(name=PUSH_CONFIG, queue=QUEUE, pass_context=True, retry=RetryForever())(push_config)
    task = app.task(name=SWEEP, queue=QUEUE, pass_context=True, queueing_lock=SWEEP)(sweep_billing)
    app.periodic(cron="* * * * *", periodic_id="billing-sweep")(task)
