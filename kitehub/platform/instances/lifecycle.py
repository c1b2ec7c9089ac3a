"""The instance state machine (ARCHITECTURE.md): the only code that changes ``Instance.status``.

Every transition writes an ``instance_events`` row in the caller's transaction, so the history
and the state cannot disagree.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

from sqlalchemy.ext.asyncio import AsyncSession

from kitehub.errors import ConflictError
from kitehub.instance_changes import changed
from kitehub.platform.instances.models import Instance, InstanceEvent, InstanceStatus

S = InstanceStatus
ALLOWED_TRANSITIONS: dict[InstanceStatus, frozenset[InstanceStatus]] = {
    S.PROVISIONING: frozenset({S.READY, S.FAILED}),
    S.FAILED: frozenset({S.PROVISIONING, S.DELETED}),
    S.READY: frozenset({S.SUSPENDED, S.DELETED}),
    S.SUSPENDED: frozenset({S.READY, S.DELETED}),
    S.DELETED: frozenset({S.PURGED}),
    S.PURGED: frozenset(),
}


class InvalidTransitionError(ConflictError):
    slug, title = "invalid-instance-transition", "The instance cannot make that change now"


def record_creation(session: AsyncSession, instance: Instance, *, actor_id: uuid.UUID | None) -> None:
    session.add(InstanceEvent(instance_id=instance.id, from_status=None, to_status=instance.status, actor_id=actor_id))


def transition(
    session: AsyncSession,
    instance: Instance,
    to_status: InstanceStatus,
    *,
    actor_id: uuid.UUID | None = None,
    reason: str | None = None,
) -> None:
    current = instance.status
    if to_status not in ALLOWED_TRANSITIONS[current]:
        raise InvalidTransitionError(
            f"instance {instance.subdomain!r} is {current.value} and cannot become {to_status.value}",
            extra={"instance_status": current.value, "requested_status": to_status.value},
        )
    instance.status = to_status
    changed(session, instance.id)
    instance.status_reason = reason if to_status in (S.FAILED, S.SUSPENDED) else None
    if to_status is S.DELETED:
        instance.deleted_at = datetime.now(UTC)
    session.add(
        InstanceEvent(
            instance_id=instance.id, from_status=current, to_status=to_status, actor_id=actor_id, reason=reason
        )
    )
