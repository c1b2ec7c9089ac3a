"""Provisioning work done by the job queue: create, retry and purge tenant databases."""

from __future__ import annotations

import uuid

import procrastinate

from kitehub.jobs import runtime_of
from kitehub.logs import get_logger
from kitehub.provisioning.provisioner import Provisioner, ProvisioningFailedError, ProvisioningInProgressError
from kitehub.provisioning.teardown import deprovision

QUEUE = "provisioning"
PROVISION = "provisioning.provision"
RETRY = "provisioning.retry"
PURGE = "provisioning.purge"

logger = get_logger(__name__)


def _provisioner(context: procrastinate.JobContext) -> Provisioner:
    runtime = runtime_of(context)
    return Provisioner(runtime.sessions, runtime.vault, connection_limit=runtime.settings.tenant_connection_limit)


async def provision(context: procrastinate.JobContext, instance_id: str) -> None:
    """A failure is recorded on the instance (FAILED, with the step); the job itself succeeds,
    since re-running it blindly would not help: an admin retries once the cause is fixed."""
    try:
        await _provisioner(context).provision(uuid.UUID(instance_id))
    except ProvisioningFailedError as exc:
        logger.warning("provisioning failed", instance_id=instance_id, step=exc.step)
    except ProvisioningInProgressError:
        logger.info("another worker is provisioning this instance", instance_id=instance_id)


async def retry(context: procrastinate.JobContext, instance_id: str, actor_id: str | None = None) -> None:
    try:
        await _provisioner(context).retry(uuid.UUID(instance_id), actor_id=uuid.UUID(actor_id) if actor_id else None)
    except ProvisioningFailedError as exc:
        logger.warning("provisioning retry failed", instance_id=instance_id, step=exc.step)
    except ProvisioningInProgressError:
        logger.info("provisioning is running already; nothing to retry", instance_id=instance_id)


async def purge(context: procrastinate.JobContext, instance_id: str, actor_id: str | None = None) -> None:
    runtime = runtime_of(context)
    async with runtime.sessions() as session, session.begin():
        await deprovision(
            session, runtime.vault, uuid.UUID(instance_id), actor_id=uuid.UUID(actor_id) if actor_id else None
        )


def register_tasks(app: procrastinate.App) -> None:
    for name, function in ((PROVISION, provision), (RETRY, retry), (PURGE, purge)):
        app.task(name=name, queue=QUEUE, pass_context=True)(function)
