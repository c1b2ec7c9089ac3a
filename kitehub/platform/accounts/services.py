"""Accounts: sign-up, log-in (with throttling per e-mail) and admin bootstrap."""

from __future__ import annotations

import re
import uuid
from datetime import UTC, datetime

from sqlalchemy import func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from kitehub.errors import ConflictError, InvalidInputError, KiteHubError
from kitehub.lockout import clear_failures, count_failure, login_key, refuse_if_locked
from kitehub.platform.accounts.models import Account, AccountRole, LoginAttempts
from kitehub.platform.accounts.passwords import MIN_PASSWORD_LENGTH, hash_password, needs_rehash, verify_password
from kitehub.platform.audit.services import SYSTEM, AuditActor, record

# A hash no password verifies against: the account exists but cannot log in until a password is set.
UNUSABLE_PASSWORD_HASH = "!unusable"  # noqa: S105 - a marker, not a password
EMAIL_PATTERN = re.compile(r"^[^@\s]{1,64}@[^@\s]+\.[^@\s]{2,}$")


class InvalidCredentialsError(KiteHubError):
    status_code, slug, title = 401, "invalid-credentials", "Invalid e-mail or password"


def normalise_email(email: str) -> str:
    value = email.strip()
    if len(value) > 320 or not EMAIL_PATTERN.match(value):
        raise InvalidInputError(
            "not a valid e-mail address",
            extra={"errors": [{"field": "email", "message": "not a valid e-mail address", "source": "body"}]},
        )
    return value


def check_password_strength(password: str) -> None:
    if len(password) < MIN_PASSWORD_LENGTH or not password.strip():
        raise InvalidInputError(
            f"a password has at least {MIN_PASSWORD_LENGTH} characters",
            extra={"errors": [{"field": "password", "message": "too short", "source": "body"}]},
        )


async def find_account_by_email(session: AsyncSession, email: str) -> Account | None:
    return await session.scalar(
        select(Account).where(func.lower(Account.email) == email.strip().lower(), Account.deleted_at.is_(None))
    )


async def create_account(
    session: AsyncSession, *, email: str, password: str, full_name: str, role: AccountRole = AccountRole.OWNER
) -> Account:
    email = normalise_email(email)
    check_password_strength(password)
    if not full_name.strip():
        raise InvalidInputError(
            "a full name is required", extra={"errors": [{"field": "full_name", "message": "blank", "source": "body"}]}
        )
    if await find_account_by_email(session, email) is not None:
        raise ConflictError("an account with this e-mail address exists", extra={"field": "email"})
    account = Account(
        id=uuid.uuid4(),
        email=email,
        full_name=full_name.strip(),
        password_hash=await hash_password(password),
        role=role,
    )
    session.add(account)
    try:
        await session.flush()
    except IntegrityError as exc:  # a concurrent sign-up with the same address
        raise ConflictError("an account with this e-mail address exists", extra={"field": "email"}) from exc
    return account


async def signup(session: AsyncSession, actor: AuditActor, email: str, password: str, full_name: str) -> Account:
    account = await create_account(session, email=email, password=password, full_name=full_name)
    await record(
        session, actor.as_account(account), "account.signup", "account", account.id,
        after={"email": account.email, "role": account.role.value},
    )  # fmt: skip
    await session.refresh(account)
    return account


async def authenticate(session: AsyncSession, actor: AuditActor, email: str, password: str) -> Account:
    """The account for these credentials, or 401; 429 (Retry-After) while the address is locked.

    Failures are counted per lower-cased address whether or not an account has it (``lockout``),
    and are committed before the error is raised (the request's own transaction is rolled back).
    The reads are committed before the slow password check, so no connection waits idle on it.
    A success writes the account with a plain UPDATE: two log-ins at once are no conflict.
    """
    key = login_key(email)
    await refuse_if_locked(session, LoginAttempts, key)
    account = await find_account_by_email(session, key)
    await session.commit()
    usable = account is not None and account.is_active
    valid = await verify_password(account.password_hash if account is not None and usable else None, password)
    if not valid or account is None:
        failures = await count_failure(session, LoginAttempts, key)
        await record(session, actor, "account.login_failed", "account", account.id if account else None,
                     after={"email": key, "failures": failures})  # fmt: skip
        await session.commit()
        raise InvalidCredentialsError("the e-mail address or the password is wrong")
    changes: dict[str, object] = {"last_login_at": datetime.now(UTC)}
    if needs_rehash(account.password_hash):  # hashed before the attempts row is locked
        changes["password_hash"] = await hash_password(password)
    await clear_failures(session, LoginAttempts, key)
    await session.execute(update(Account).where(Account.id == account.id).values(**changes))
    await record(session, actor.as_account(account), "account.login", "account", account.id)
    return account


async def ensure_owner_account(session: AsyncSession, email: str, full_name: str | None = None) -> Account:
    """The live account with ``email``, created (without a usable password) when missing."""
    account = await find_account_by_email(session, email)
    if account is None:
        account = Account(
            id=uuid.uuid4(),
            email=normalise_email(email),
            full_name=full_name or email.split("@")[0],
            password_hash=UNUSABLE_PASSWORD_HASH,
            role=AccountRole.OWNER,
        )
        session.add(account)
        await session.flush()
    return account


async def bootstrap_admin(session: AsyncSession, email: str, password: str) -> Account | None:
    """Create the first admin from configuration, once: nothing happens when an admin exists."""
    if await session.scalar(select(Account.id).where(Account.role == AccountRole.ADMIN).limit(1)):
        return None
    admin = await create_account(
        session, email=email, password=password, full_name="Platform admin", role=AccountRole.ADMIN
    )
    await record(session, SYSTEM, "account.bootstrap_admin", "account", admin.id, after={"email": admin.email})
    return admin
