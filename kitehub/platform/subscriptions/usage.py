"""What an instance uses, against what a tier allows: the downgrade check."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from kitehub.platform.tiers.models import Tier


@dataclass(frozen=True, slots=True)
class Usage:
    students: int
    courses: int
    storage_bytes: int


UsageReader = Callable[[], Awaitable[Usage]]


def exceeded_limits(usage: Usage, tier: Tier) -> list[dict[str, Any]]:
    """Each limit of ``tier`` the current usage does not fit in (a null limit is unlimited)."""
    exceeded: list[dict[str, Any]] = []
    for limit, current in (("max_students", usage.students), ("max_courses", usage.courses)):
        allowed = tier.limitations.get(limit)
        if allowed is not None and current > int(allowed):
            exceeded.append({"limit": limit, "allowed": int(allowed), "current": current})
    if usage.storage_bytes > tier.storage_limit_bytes:
        exceeded.append(
            {"limit": "storage_limit_bytes", "allowed": tier.storage_limit_bytes, "current": usage.storage_bytes}
        )
    return exceeded
