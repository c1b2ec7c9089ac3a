"""Pushing a tier's features and limits into tenant databases (``instance_config``).

A change commits together with the jobs that push it; each job re-reads the platform's current
state, so a late or repeated job can only write what is true now (see ``kitehub.provisioning.
tenant_config``). Jobs for one instance share a procrastinate lock: they run one at a time.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable

from sqlalchemy.ext.asyncio import AsyncSession

from kitehub.jobs import enqueue_many

QUEUE = "billing"
PUSH_CONFIG = "billing.push_instance_config"


def config_lock(instance_id: uuid.UUID) -> str:
    return f"instance-config:{instance_id}"


async def schedule_config_push(session: AsyncSession, instance_ids: Iterable[uuid.UUID]) -> int:
    jobs = [
        ({"instance_id": str(instance_id)}, config_lock(instance_id)) for instance_id in dict.fromkeys(instance_ids)
    ]
    return await enqueue_many(session, PUSH_CONFIG, queue=QUEUE, jobs=jobs)
