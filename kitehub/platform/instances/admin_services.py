"""What platform admins do to instances: suspend, resume, retry provisioning, delete and purge."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from kitehub.errors import ConflictError
from kitehub.jobs import enqueue
from kitehub.platform.audit.services import AuditActor, record
from kitehub.platform.instances.lifecycle import transition
from kitehub.platform.instances.models import Instance, InstanceStatus
from kitehub.platform.instances.views import instance_snapshot
from kitehub.provisioning import jobs as provisioning_jobs


def _require(instance: Instance, status: InstanceStatus, verb: str) -> None:
    if instance.status is not status:
        raise ConflictError(
            f"only a {status.value} instance can be told to {verb}; {instance.subdomain!r} is {instance.status.value}",
            extra={"instance_status": instance.status.value},
        )


async def _change(
    session: AsyncSession, actor: AuditActor, instance: Instance, to: InstanceStatus, action: str, reason: str | None
) -> Instance:
    before = instance_snapshot(instance)
    transition(session, instance, to, actor_id=actor.account_id, reason=reason)
    await session.flush()
    await record(session, actor, action, "instance", instance.id, before=before, after=instance_snapshot(instance))
    return instance


async def suspend(session: AsyncSession, actor: AuditActor, instance: Instance, reason: str | None) -> Instance:
    _require(instance, InstanceStatus.READY, "suspend")
    return await _change(session, actor, instance, InstanceStatus.SUSPENDED, "instance.suspend", reason or "suspended")


async def resume(session: AsyncSession, actor: AuditActor, instance: Instance) -> Instance:
    """Only a suspension is undone here: READY after PROVISIONING is the provisioner's to declare."""
    _require(instance, InstanceStatus.SUSPENDED, "resume")
    return await _change(session, actor, instance, InstanceStatus.READY, "instance.resume", "resumed")


async def retry_provisioning(session: AsyncSession, actor: AuditActor, instance: Instance) -> Instance:
    """Queue a retry of a FAILED (or abandoned PROVISIONING) instance; the job resumes its steps."""
    if instance.status not in (InstanceStatus.FAILED, InstanceStatus.PROVISIONING):
        raise ConflictError(f"instance {instance.subdomain!r} is {instance.status.value}: nothing to retry")
    await enqueue(
        session,
        provisioning_jobs.RETRY,
        queue=provisioning_jobs.QUEUE,
        args={"instance_id": str(instance.id), "actor_id": str(actor.account_id) if actor.account_id else None},
        queueing_lock=f"provision:{instance.id}",
    )
    await record(session, actor, "instance.retry_provisioning", "instance", instance.id,
                 before=instance_snapshot(instance))  # fmt: skip
    return instance


async def delete(session: AsyncSession, actor: AuditActor, instance: Instance, *, purge: bool) -> Instance:
    """Soft delete at once; with ``purge``, a job then drops the database and role (PURGED)."""
    if instance.status is InstanceStatus.PURGED:
        return instance
    if instance.status is InstanceStatus.PROVISIONING:
        raise ConflictError("the instance is being provisioned; delete it once that has finished or failed")
    if instance.status is not InstanceStatus.DELETED:
        await _change(session, actor, instance, InstanceStatus.DELETED, "instance.delete", "deleted by an admin")
    if purge:
        await enqueue(
            session,
            provisioning_jobs.PURGE,
            queue=provisioning_jobs.QUEUE,
            args={"instance_id": str(instance.id), "actor_id": str(actor.account_id) if actor.account_id else None},
            queueing_lock=f"purge:{instance.id}",
        )
        await record(session, actor, "instance.purge_requested", "instance", instance.id)
    return instance
