"""The provisioner: gives an instance its own role and database, step by recorded step.

Each step (``steps``) runs in its own platform transaction holding the instance row lock, is
recorded in ``provisioning_steps`` and is safe to run again, so a retry after any failure skips
what is DONE and repeats the rest. A run holds an advisory lock on its instance for its whole
length: a second run is refused while the first lives, and a run whose process died (lock gone,
instance still PROVISIONING) can be resumed with ``retry``.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from typing import Literal

from sqlalchemy import select, text
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

import kitehub.platform.registry  # noqa: F401 - every table known before mappers configure
from kitehub.errors import ConflictError, NotFoundError
from kitehub.logs import get_logger
from kitehub.platform.instances.lifecycle import transition
from kitehub.platform.instances.models import Instance, InstanceStatus
from kitehub.provisioning.models import ProvisioningStep, ProvisioningStepStatus
from kitehub.provisioning.steps import STEPS as STEP_FUNCTIONS
from kitehub.provisioning.steps import RunConnections, StepContext, instance_lock_key
from kitehub.provisioning.vault import Vault

STEPS = tuple(STEP_FUNCTIONS)
MAX_ERROR_LENGTH = 2000

Phase = Literal["before", "after"]
StepHook = Callable[[str, Phase], Awaitable[None]]

logger = get_logger(__name__)


class ProvisioningFailedError(Exception):
    def __init__(self, instance_id: uuid.UUID, step: str, error: str) -> None:
        super().__init__(f"provisioning of {instance_id} failed at step {step!r}: {error}")
        self.instance_id, self.step, self.error = instance_id, step, error


class ProvisioningInProgressError(ConflictError):
    slug, title = "provisioning-in-progress", "The instance is being provisioned"


class Provisioner:
    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        vault: Vault,
        *,
        connection_limit: int = 20,
        use_template: bool = True,
        on_step: StepHook | None = None,
    ) -> None:
        self._sessions = sessions
        self._vault = vault
        self._connection_limit = connection_limit
        self._use_template = use_template
        self._on_step = on_step

    async def provision(self, instance_id: uuid.UUID) -> None:
        """Run every step not yet done; the instance ends READY, or FAILED with the error."""
        async with self._run_lock(instance_id):
            await self._run(instance_id)

    async def retry(self, instance_id: uuid.UUID, *, actor_id: uuid.UUID | None = None) -> None:
        """Resume a FAILED provisioning, or one whose process died, from its first unfinished step."""
        async with self._run_lock(instance_id):
            async with self._sessions() as session, session.begin():
                instance = await self._locked_instance(session, instance_id)
                if instance.status is InstanceStatus.FAILED:
                    transition(session, instance, InstanceStatus.PROVISIONING, actor_id=actor_id, reason="retry")
                elif instance.status is InstanceStatus.PROVISIONING:
                    logger.warning("resuming an interrupted provisioning", instance_id=str(instance_id))
                else:
                    raise ConflictError(f"instance {instance.subdomain!r} is {instance.status.value}: nothing to retry")
            await self._run(instance_id)

    async def steps(self, instance_id: uuid.UUID) -> dict[str, ProvisioningStep]:
        async with self._sessions() as session:
            rows = await session.scalars(select(ProvisioningStep).where(ProvisioningStep.instance_id == instance_id))
            return {row.step: row for row in rows}

    @asynccontextmanager
    async def _run_lock(self, instance_id: uuid.UUID) -> AsyncIterator[None]:
        """Held on its own platform connection; released by the server if this process dies."""
        key = {"key": instance_lock_key(instance_id)}
        async with self._sessions() as session:
            # AUTOCOMMIT: the lock is held for the run without keeping a transaction open.
            connection = await session.connection(execution_options={"isolation_level": "AUTOCOMMIT"})
            if not await connection.scalar(text("SELECT pg_try_advisory_lock(:key)"), key):
                raise ProvisioningInProgressError("another worker is provisioning this instance right now")
            try:
                yield
            finally:
                try:
                    await connection.execute(text("SELECT pg_advisory_unlock(:key)"), key)
                except BaseException:
                    await connection.invalidate()  # never return a connection that may hold the lock
                    raise

    async def _run(self, instance_id: uuid.UUID) -> None:
        """One session for the run, one commit per step.

        The run lock keeps every other provisioner (and deprovision) away, and the instance's
        optimistic ``version`` makes any other concurrent write fail the step, so the row need not
        be re-read and re-locked for every step.
        """
        connections = RunConnections(self._vault, self._connection_limit, self._use_template)
        async with connections.stack, self._sessions() as session:
            instance = await self._locked_instance(session, instance_id)
            if instance.status is not InstanceStatus.PROVISIONING:
                raise ConflictError(f"instance {instance.subdomain!r} is {instance.status.value}, not PROVISIONING")
            ledger = {
                row.step: row
                for row in await session.scalars(
                    select(ProvisioningStep).where(ProvisioningStep.instance_id == instance_id)
                )
            }
            await session.commit()
            for step in STEPS:
                if step in ledger and ledger[step].status is ProvisioningStepStatus.DONE:
                    continue
                await self._run_step(session, connections, instance, step, ledger.get(step))

    async def _run_step(
        self,
        session: AsyncSession,
        connections: RunConnections,
        instance: Instance,
        step: str,
        ledger: ProvisioningStep | None,
    ) -> None:
        instance_id = instance.id  # the row is expired by a rollback; keep what we need first
        if step != "ready":
            # Losing an intermediate ledger row in a crash only means that (idempotent) step
            # runs again, so its commit need not wait for the disk; READY's does.
            await session.execute(text("SET LOCAL synchronous_commit = off"))
        try:
            if self._on_step is not None:
                await self._on_step(step, "before")
            await STEP_FUNCTIONS[step](StepContext(session, instance, connections))
            if self._on_step is not None:
                await self._on_step(step, "after")
            self._mark(session, ledger, instance_id, step, ProvisioningStepStatus.DONE, None)
            await session.commit()
        except Exception as exc:
            error = f"{type(exc).__name__}: {exc}"[:MAX_ERROR_LENGTH]
            await session.rollback()
            await self._record_failure(instance_id, step, error)
            raise ProvisioningFailedError(instance_id, step, error) from exc

    async def _record_failure(self, instance_id: uuid.UUID, step: str, error: str) -> None:
        async with self._sessions() as session, session.begin():
            instance = await self._locked_instance(session, instance_id)
            ledger = await session.get(ProvisioningStep, (instance_id, step))
            self._mark(session, ledger, instance_id, step, ProvisioningStepStatus.FAILED, error)
            if instance.status is InstanceStatus.PROVISIONING:
                transition(session, instance, InstanceStatus.FAILED, reason=f"step {step}: {error}")
        logger.warning("provisioning step failed", instance_id=str(instance_id), step=step, error=error)

    @staticmethod
    def _mark(
        session: AsyncSession,
        ledger: ProvisioningStep | None,
        instance_id: uuid.UUID,
        step: str,
        status: ProvisioningStepStatus,
        error: str | None,
    ) -> None:
        finished = datetime.now(UTC)
        if ledger is None:
            session.add(
                ProvisioningStep(instance_id=instance_id, step=step, status=status, error=error, finished_at=finished)
            )
        else:
            ledger.status, ledger.error, ledger.finished_at = status, error, finished
            ledger.attempts += 1

    @staticmethod
    async def _locked_instance(session: AsyncSession, instance_id: uuid.UUID) -> Instance:
        instance = await session.get(Instance, instance_id, with_for_update=True, populate_existing=True)
        if instance is None:
            raise NotFoundError(f"no instance {instance_id}")
        return instance
