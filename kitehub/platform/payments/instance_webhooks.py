"""An instance's own bank webhook: the school's SePay account reports its enrollment payments.

The owner sets the key (the same value goes into SePay's webhook settings), so it never appears
in an answer; at least 24 characters are required and only its SHA-256 is stored. Setting a new
one replaces the old at once.
"""

from __future__ import annotations

import hashlib
import hmac

from sqlalchemy.ext.asyncio import AsyncSession

from kitehub.errors import InvalidInputError, NotAuthenticatedError, NotFoundError
from kitehub.platform.audit.services import AuditActor, record
from kitehub.platform.instances.models import Instance, InstanceStatus


def key_hash(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


async def set_webhook_key(session: AsyncSession, actor: AuditActor, instance: Instance, key: str) -> None:
    if key != key.strip() or not key.isprintable() or len(set(key)) < 8:
        raise InvalidInputError(
            "api_key: use a random string (no surrounding spaces, at least 8 different characters)",
            extra={"errors": [{"field": "api_key", "message": "too weak", "source": "body"}]},
        )
    replaced = instance.webhook_key_hash is not None
    instance.webhook_key_hash = key_hash(key)
    await session.flush()
    await record(session, actor, "instance.webhook_key", "instance", instance.id, after={"replaced": replaced})


async def instance_for_webhook(session: AsyncSession, instance_id: object, authorization: str | None) -> Instance:
    """The instance whose key this is; the same 401 for an unknown instance and a wrong key."""
    instance = await session.get(Instance, instance_id)
    scheme, _, given = (authorization or "").strip().partition(" ")
    expected = instance.webhook_key_hash if instance is not None and instance.webhook_key_hash else "0" * 64
    valid = scheme.lower() == "apikey" and hmac.compare_digest(key_hash(given.strip()), expected)
    if not valid or instance is None:
        raise NotAuthenticatedError("the webhook API key is missing or wrong")
    if instance.status in (InstanceStatus.DELETED, InstanceStatus.PURGED):
        raise NotFoundError("no such instance")
    return instance
