"""Re-encrypting every stored secret with the active key, in batches, resumably.

Each batch is its own transaction and selects only rows not yet on the active key, so an
interrupted rotation simply continues where it stopped. When no row uses an old key any more,
that key can be removed from ``KITEHUB_ENCRYPTION_KEYS``.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field

from sqlalchemy import Column, Table, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from kitehub.platform.instances.models import Instance
from kitehub.provisioning.credentials import DATABASE_PASSWORD_PURPOSE
from kitehub.provisioning.models import DatabaseServer
from kitehub.provisioning.servers import ADMIN_PASSWORD_PURPOSE
from kitehub.provisioning.vault import FORMAT_VERSION, SecretLocation, Vault, VaultError


@dataclass(frozen=True, slots=True)
class SecretColumn:
    """A column holding vault ciphertext, and the purpose its rows were sealed for."""

    table: Table
    column: str
    purpose: str

    @property
    def label(self) -> str:
        return f"{self.table.name}.{self.column}"


SECRET_COLUMNS = (
    SecretColumn(Instance.__table__, "database_password_encrypted", DATABASE_PASSWORD_PURPOSE),  # type: ignore[arg-type]
    SecretColumn(DatabaseServer.__table__, "admin_password_encrypted", ADMIN_PASSWORD_PURPOSE),  # type: ignore[arg-type]
)


@dataclass
class RotationReport:
    active_kid: str
    rotated: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    failed: dict[str, list[str]] = field(default_factory=lambda: defaultdict(list))
    usage: dict[str, dict[str, int]] = field(default_factory=dict)

    @property
    def still_on_old_keys(self) -> int:
        """Secrets not on the active key: an old key may be removed only when this is 0."""
        return sum(n for usage in self.usage.values() for kid, n in usage.items() if kid != self.active_kid)


async def key_usage(session: AsyncSession) -> dict[str, dict[str, int]]:
    """How many stored secrets each key id protects, per column."""
    usage: dict[str, dict[str, int]] = {}
    for secret in SECRET_COLUMNS:
        column: Column[str] = secret.table.c[secret.column]
        kid = func.split_part(column, ":", 2)
        rows = await session.execute(select(kid, func.count()).where(column.is_not(None)).group_by(kid))
        usage[secret.label] = {str(key): int(count) for key, count in rows.all()}
    return usage


async def rotate_keys(
    sessions: async_sessionmaker[AsyncSession], vault: Vault, *, batch_size: int = 100
) -> RotationReport:
    report = RotationReport(vault.active_kid)
    active_prefix = f"{FORMAT_VERSION}:{vault.active_kid}:"
    for secret in SECRET_COLUMNS:
        table, column = secret.table, secret.table.c[secret.column]
        unreadable: list[str] = []
        while True:
            async with sessions() as session, session.begin():
                rows = (
                    await session.execute(
                        select(table.c.id, column)
                        .where(column.is_not(None), ~column.startswith(active_prefix), table.c.id.not_in(unreadable))
                        .order_by(table.c.id)
                        .limit(batch_size)
                        .with_for_update()  # wait for a concurrent writer rather than skip its row
                    )
                ).all()
                if not rows:
                    break
                for row_id, stored in rows:
                    try:
                        fresh = vault.rotate(stored, SecretLocation(secret.purpose, str(row_id)))
                    except VaultError as exc:
                        unreadable.append(row_id)
                        report.failed[secret.label].append(f"{row_id}: {exc}")
                        continue
                    await session.execute(
                        update(table)
                        .where(table.c.id == row_id, column == stored)
                        .values({secret.column: fresh, "version": table.c.version + 1})
                    )
                    report.rotated[secret.label] += 1
    async with sessions() as session:
        report.usage = await key_usage(session)
    return report
