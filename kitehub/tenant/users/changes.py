"""What a change to a staff account means: the audited actions it is made of, and whether it ends
the user's sessions.

A new password, a new role or a deactivation revokes every token the user holds (their
``token_generation`` is raised, and tokens carry the generation they were issued at), so a leaked
token or a demoted admin's token stops working on its next request. A rename does not.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from kitehub.tenant.users.models import TenantUser

CREATE = "user.create"
RENAME = "user.rename"
ROLE_CHANGE = "user.role_change"
PASSWORD_CHANGE = "user.password_change"  # noqa: S105 - an action name, not a password
DEACTIVATE = "user.deactivate"
ACTIVATE = "user.activate"
DELETE = "user.delete"
REVOKING = frozenset({ROLE_CHANGE, PASSWORD_CHANGE, DEACTIVATE, DELETE})


def snapshot(user: TenantUser) -> dict[str, Any]:
    """The audited face of a user: allow-listed fields only (never the password hash)."""
    return {"email": user.email, "full_name": user.full_name, "role": user.role.value, "is_active": user.is_active}


@dataclass(frozen=True, slots=True)
class Change:
    action: str
    before: dict[str, Any] | None = None
    after: dict[str, Any] | None = None


def changes(before: dict[str, Any], after: dict[str, Any], *, password_set: bool) -> list[Change]:
    """One audited action per aspect that changed, each with its own field before and after."""
    found: list[Change] = []
    for field, action in (("full_name", RENAME), ("role", ROLE_CHANGE)):
        if before[field] != after[field]:
            found.append(Change(action, {field: before[field]}, {field: after[field]}))
    if before["is_active"] != after["is_active"]:
        action = ACTIVATE if after["is_active"] else DEACTIVATE
        found.append(Change(action, {"is_active": before["is_active"]}, {"is_active": after["is_active"]}))
    if password_set:
        found.append(Change(PASSWORD_CHANGE))
    return found


def revoke_tokens(user: TenantUser) -> None:
    """Every token issued to ``user`` so far is refused from the moment this commits."""
    user.token_generation += 1
