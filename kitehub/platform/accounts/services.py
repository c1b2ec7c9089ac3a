"""Accounts, as far as provisioning from the command line needs them."""

from __future__ import annotations

import uuid

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from kitehub.platform.accounts.models import Account, AccountRole

# A hash no password verifies against: the account exists but cannot log in until a password is set.
UNUSABLE_PASSWORD_HASH = "!unusable"  # noqa: S105 - a marker, not a password


async def find_account_by_email(session: AsyncSession, email: str) -> Account | None:
    return await session.scalar(
        select(Account).where(func.lower(Account.email) == email.strip().lower(), Account.deleted_at.is_(None))
    )


async def ensure_owner_account(session: AsyncSession, email: str, full_name: str | None = None) -> Account:
    """The live account with ``email``, created (without a usable password) when missing."""
    account = await find_account_by_email(session, email)
    if account is None:
        account = Account(
            id=uuid.uuid4(),
            email=email.strip(),
            full_name=full_name or email.split("@")[0],
            password_hash=UNUSABLE_PASSWORD_HASH,
            role=AccountRole.OWNER,
        )
        session.add(account)
        await session.flush()
    return account
