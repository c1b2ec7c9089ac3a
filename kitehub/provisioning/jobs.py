"""Provisioning work done by the job queue: create, retry and purge tenant databases."""

from __future__ import annotations

import asyncio
import uuid
from typing import Any

import procrastinate

from kitehub.jobs import runtime_of
from kitehub.logs import get_logger
from kitehub.provisioning.fleet import FleetOptions, FleetRunner
from kitehub.provisioning.provisioner import (
    Phase,
    Provisioner,
    ProvisioningFailedError,
    ProvisioningInProgressError,
    StepHook,
)
from kitehub.provisioning.teardown import deprovision

QUEUE = "provisioning"
PROVISION = "provisioning.provision"
RETRY = "provisioning.retry"
PURGE = "provisioning.purge"
MIGRATE = "provisioning.migrate_fleet"
MIGRATION_QUEUE = "migrations"

logger = get_logger(__name__)


def _provisioner(context: procrastinate.JobContext) -> Provisioner:
    runtime = runtime_of(context)
    return Provisioner(
        runtime.sessions,
        runtime.vault,
        connection_limit=runtime.settings.tenant_connection_limit,
        on_step=_test_pause(runtime.settings.test_provisioning_pause),
    )


def _test_pause(spec: str | None) -> StepHook | None:
    """``KITEHUB_TEST_PROVISIONING_PAUSE=step:seconds`` (test environment only): wait before that
    step, so a crash test can kill a process in the middle of provisioning."""
    if spec is None:
        return None
    pause_step, seconds = spec.split(":")

    async def pause(step: str, phase: Phase) -> None:
        if step == pause_step and phase == "before":
            await asyncio.sleep(float(seconds))

    return pause


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


async def migrate_fleet(context: procrastinate.JobContext, run_id: str, options: dict[str, Any]) -> None:
    """A fleet migration started from the API; its progress is in the ledger under ``run_id``."""
    runtime = runtime_of(context)
    fleet_options = FleetOptions(
        target=options.get("target"),
        concurrency=int(options.get("concurrency", 4)),
        per_server=int(options.get("per_server", 4)),
        canary=int(options.get("canary", 0)),
        max_failures=int(options["max_failures"]) if options.get("max_failures") else None,
        retry_failed=bool(options.get("retry_failed", False)),
        force=bool(options.get("force", False)),
    )
    report = await FleetRunner(runtime.sessions, runtime.vault).run(fleet_options, run_id=uuid.UUID(run_id))
    logger.info("fleet migration finished", run_id=run_id, ok=report.ok, stopped_early=report.stopped_early)


def register_tasks(app: procrastinate.App) -> None:
    for name, queue, function in (
        (PROVISION, QUEUE, provision),
        (RETRY, QUEUE, retry),
        (PURGE, QUEUE, purge),
        (MIGRATE, MIGRATION_QUEUE, migrate_fleet),  # long runs: their own queue, beside provisioning
    ):
        app.task(name=name, queue=queue, pass_context=True)(function)
