"""``Idempotency-Key``: the same key and body get the first answer again; another body gets 409."""

from __future__ import annotations

import hashlib
import json
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import delete, select, text, tuple_
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from kitehub.errors import ConflictError, InvalidInputError
from kitehub.platform.idempotency.models import IdempotencyKey

MAX_KEY_LENGTH = 255
KEEP_ANSWERS = timedelta(hours=24)  # a client retrying within a day gets the first answer (Stripe's rule)


@dataclass(frozen=True, slots=True)
class StoredAnswer:
    status_code: int
    body: dict[str, Any]
    headers: dict[str, str]


def fingerprint(body: Any) -> str:
    return hashlib.sha256(json.dumps(body, sort_keys=True, default=str).encode()).hexdigest()


def check_key(key: str | None) -> str | None:
    if key is None:
        return None
    if not key.strip() or len(key) > MAX_KEY_LENGTH or not key.isprintable():
        raise InvalidInputError(
            f"Idempotency-Key must be 1-{MAX_KEY_LENGTH} printable characters",
            extra={"errors": [{"field": "idempotency-key", "message": "invalid", "source": "header"}]},
        )
    return key


async def replay(
    session: AsyncSession, account_id: uuid.UUID, scope: str, key: str, request_fingerprint: str
) -> StoredAnswer | None:
    # Concurrent requests with one key queue here; the later ones then find the first answer.
    await session.execute(
        text("SELECT pg_advisory_xact_lock(hashtextextended(:lock, 0))"), {"lock": f"{account_id}:{scope}:{key}"}
    )
    stored = await session.get(IdempotencyKey, (account_id, scope, key))
    if stored is None:
        return None
    if stored.request_fingerprint != request_fingerprint:
        raise ConflictError(
            "this Idempotency-Key was used with a different request", extra={"field": "idempotency-key"}
        )
    return StoredAnswer(stored.status_code, stored.response, stored.headers)


async def remember(
    session: AsyncSession,
    account_id: uuid.UUID,
    scope: str,
    key: str,
    request_fingerprint: str,
    answer: StoredAnswer,
) -> None:
    """Stored in the creating transaction: the answer exists exactly when the resource does."""
    session.add(
        IdempotencyKey(
            account_id=account_id,
            scope=scope,
            key=key,
            request_fingerprint=request_fingerprint,
            status_code=answer.status_code,
            response=answer.body,
            headers=answer.headers,
        )
    )
    try:
        await session.flush()
    except IntegrityError as exc:  # the same key, in a request running at this very moment
        raise ConflictError("a request with this Idempotency-Key is already in progress") from exc


async def forget_old_answers(session: AsyncSession, now: datetime, *, limit: int) -> int:
    """Delete up to ``limit`` answers stored more than ``KEEP_ANSWERS`` ago; how many went.

    Rows another transaction holds are skipped, so two workers cleaning at once never wait for
    each other (or for a request) and never count a row twice.
    """
    key = IdempotencyKey
    old = (
        select(key.account_id, key.scope, key.key)
        .where(key.created_at < now - KEEP_ANSWERS)
        .limit(limit)
        .with_for_update(skip_locked=True)
    )
    statement = delete(key).where(tuple_(key.account_id, key.scope, key.key).in_(old))
    result = await session.execute(statement.execution_options(synchronize_session=False))
    return int(result.rowcount or 0)  # type: ignore[attr-defined]
