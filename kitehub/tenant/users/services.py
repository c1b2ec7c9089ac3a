"""The school's staff accounts: created by tenant admins, logging in to their own instance only.

Failed logins are counted per address in ``login_attempts``, known or not; five lock it with
growing delays (429), the same policy as platform accounts (``kitehub.lockout``). Unknown addresses
cost the same password check, so neither answers nor timing tell which addresses exist.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from kitehub.errors import InvalidInputError, NotAuthenticatedError
from kitehub.lockout import clear_failures, count_failure, forget_failures, login_key, refuse_if_locked
from kitehub.pagination import page
from kitehub.platform.accounts.passwords import hash_password, needs_rehash, verify_password
from kitehub.tenant.audit.services import TenantActor, record
from kitehub.tenant.listing import flush_or_conflict, ordering, row_or_404
from kitehub.tenant.users.changes import CREATE, DELETE, REVOKING, changes, revoke_tokens, snapshot
from kitehub.tenant.users.login_attempts import StaffLoginAttempts
from kitehub.tenant.users.models import TenantRole, TenantUser
from kitehub.tenant.users.schemas import CreateUserRequest, UpdateUserRequest

SORTS = {"email": TenantUser.email, "full_name": TenantUser.full_name, "created_at": TenantUser.created_at}


def _email(value: str) -> str:
    email = value.strip().lower()
    local, at, domain = email.partition("@")
    if not at or not local or "." not in domain or any(ch.isspace() for ch in email):
        raise InvalidInputError(
            "email: not an e-mail address",
            extra={"errors": [{"field": "email", "message": "invalid", "source": "body"}]},
        )
    return email


async def create_user(session: AsyncSession, body: CreateUserRequest, actor: TenantActor) -> TenantUser:
    """A new staff member, audited in the same transaction."""
    user = TenantUser(
        email=_email(body.email),
        full_name=body.full_name.strip(),
        role=TenantRole(body.role),
        password_hash=await hash_password(body.password),
    )
    session.add(user)
    await flush_or_conflict(session, "a user with this e-mail address exists", field="email")
    await session.refresh(user)
    await record(session, actor, CREATE, user.id, after=snapshot(user))
    return user


async def live_user(session: AsyncSession, user_id: uuid.UUID, *, for_update: bool = False) -> TenantUser:
    return await row_or_404(session, TenantUser, user_id, "user", for_update=for_update)


async def page_of_users(
    session: AsyncSession, *, role: TenantRole | None, search: str | None, sort: str | None, limit: int, offset: int
) -> tuple[list[TenantUser], int]:
    query = select(TenantUser).where(TenantUser.deleted_at.is_(None))
    if role is not None:
        query = query.where(TenantUser.role == role)
    if search:
        pattern = f"%{search.strip().lower()}%"
        query = query.where(func.lower(TenantUser.full_name).like(pattern) | TenantUser.email.like(pattern))
    return await page(session, query, ordering(sort, SORTS, "created_at"), limit=limit, offset=offset)


async def update_user(
    session: AsyncSession, user: TenantUser, body: UpdateUserRequest, actor: TenantActor
) -> TenantUser:
    """Apply the change to ``user`` (locked by the caller); a new password, role or deactivation
    revokes the user's tokens. Each changed aspect is audited in the same transaction."""
    before = snapshot(user)
    if body.full_name is not None:
        user.full_name = body.full_name.strip()
    if body.role is not None:
        user.role = TenantRole(body.role)
    if body.is_active is not None:
        user.is_active = body.is_active
    if body.password is not None:
        user.password_hash = await hash_password(body.password)
        await forget_failures(session, StaffLoginAttempts, login_key(user.email))
    done = changes(before, snapshot(user), password_set=body.password is not None)
    if any(change.action in REVOKING for change in done):
        revoke_tokens(user)
    await session.flush()
    await session.refresh(user)
    for change in done:
        await record(session, actor, change.action, user.id, before=change.before, after=change.after)
    return user


async def delete_user(session: AsyncSession, user: TenantUser, actor: TenantActor) -> None:
    before = snapshot(user)
    user.deleted_at = datetime.now(UTC)
    user.is_active = False
    revoke_tokens(user)
    await session.flush()
    await record(session, actor, DELETE, user.id, before=before)


async def authenticate(session: AsyncSession, email: str, password: str) -> TenantUser:
    """The user for these credentials, or 401; 429 while the address is locked. Known and unknown
    addresses are counted and answered alike (``kitehub.lockout``). Failures are committed before
    the error is raised (the request's transaction is then rolled back); the reads are committed
    before the slow password check, so the tenant connection goes back to its pool meanwhile."""
    key = login_key(email)
    await refuse_if_locked(session, StaffLoginAttempts, key)
    user = await session.scalar(
        select(TenantUser).where(func.lower(TenantUser.email) == key, TenantUser.deleted_at.is_(None))
    )
    await session.commit()
    usable = user is not None and user.is_active
    valid = await verify_password(user.password_hash if user is not None and usable else None, password)
    if user is None or not valid:
        await count_failure(session, StaffLoginAttempts, key)
        await session.commit()
        raise NotAuthenticatedError("the e-mail address or the password is wrong")
    changes: dict[str, object] = {"last_login_at": datetime.now(UTC)}
    if needs_rehash(user.password_hash):  # hashed before the attempts row is locked
        changes["password_hash"] = await hash_password(password)
    await clear_failures(session, StaffLoginAttempts, key)
    # a plain UPDATE, not a versioned write of the row: two log-ins at once are no conflict
    await session.execute(update(TenantUser).where(TenantUser.id == user.id).values(**changes))
    return user
