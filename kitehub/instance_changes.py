"""Read your own writes: the process that changes an instance or its subscription forgets what it
had cached of it as soon as its transaction commits.

Why: every process learns of such a change by PostgreSQL ``NOTIFY``, which arrives a moment after
the commit. The process that made the change answers its own request first, so without this the
next request it serves (an admin suspends an instance, then the instance is called) could still
pass the gate on the cached status.

Writers call ``changed(session, instance_id)``; the sessions of a process that routes tenants are
made with ``on_commit_forget(callback)`` in their ``info``, and ``forget_committed`` runs the
callback after a commit.
A note left by a transaction that rolled back is honoured at the session's next commit: forgetting
too much only costs a lookup.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterable
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

_CHANGED = "kitehub.changed_instances"
_FORGET = "kitehub.forget_instances"

Forget = Callable[[Iterable[uuid.UUID]], None]


def changed(session: AsyncSession, instance_id: uuid.UUID) -> None:
    """Note that this transaction changes what a router caches of ``instance_id``."""
    session.info.setdefault(_CHANGED, set()).add(instance_id)


def on_commit_forget(forget: Forget) -> dict[str, Any]:
    """``info`` for a session factory whose commits make ``forget`` drop the instances changed."""
    return {_FORGET: forget}


def forget_committed(session: AsyncSession) -> None:
    """Call once ``session`` has committed: the router forgets the instances it changed.

    Called by the committing paths (``db.committing``, the settlement batches) rather than from
    an SQLAlchemy ``after_commit`` listener: a listener on the Session class made every session
    of the process dearer (about 5% of a bank delivery's CPU).
    """
    instances = session.info.pop(_CHANGED, None)
    forget = session.info.get(_FORGET)
    if instances and forget is not None:
        forget(instances)
