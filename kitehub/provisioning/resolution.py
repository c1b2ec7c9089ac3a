"""Which instance a request is for: by tenant subdomain, verified custom domain, or header.

Answers are cached (concurrent misses for one name share one lookup). Every change to an
instance, its subscription or its server makes PostgreSQL NOTIFY ``kitehub_instance_changed``
(platform revision 0003), and each process drops the affected entries when it hears it, so a
suspension or deletion takes effect at once on every process; the time-to-live only bounds
staleness if that notification is ever missed.
"""

from __future__ import annotations

import asyncio
import hashlib
import ipaddress
import re
import time
import uuid
from dataclasses import dataclass, field

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from kitehub.errors import InvalidInputError
from kitehub.platform.instances.models import RESERVED_SUBDOMAINS, SUBDOMAIN_PATTERN, Instance, InstanceStatus
from kitehub.platform.subscriptions.models import Subscription, SubscriptionStatus
from kitehub.provisioning.models import DatabaseServer

INSTANCE_HEADER = "x-kitehub-instance"
NOTIFY_CHANNEL = "kitehub_instance_changed"
DEFAULT_TTL_SECONDS = 30.0  # NOTIFY does the invalidating; this only bounds a missed notification
NEGATIVE_TTL_SECONDS = 1.0
MAX_CACHED_LOOKUPS = 10_000
_SUBDOMAIN = re.compile(SUBDOMAIN_PATTERN)
_DOMAIN = re.compile(r"^(?=.{4,253}$)[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?(\.[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)+$")


@dataclass(frozen=True, slots=True)
class ResolvedTenant:
    """Everything needed to gate and reach one tenant; the password stays encrypted here."""

    instance_id: uuid.UUID
    subdomain: str
    owner_id: uuid.UUID
    status: InstanceStatus
    subscription_status: SubscriptionStatus | None
    schema_revision: str | None
    server_id: uuid.UUID | None
    server_host: str | None
    server_port: int | None
    database_name: str | None
    database_role: str | None
    password_encrypted: str | None

    fingerprint: str = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        """Computed once (it is read on every request): changes whenever a cached engine for this
        tenant would be wrong."""
        parts = (
            self.server_host,
            self.server_port,
            self.database_name,
            self.database_role,
            self.password_encrypted,
            self.schema_revision,  # a migrated tenant gets fresh connections (no stale cached statements)
        )
        object.__setattr__(self, "fingerprint", hashlib.sha256(repr(parts).encode()).hexdigest())


@dataclass(frozen=True, slots=True)
class LookupKey:
    kind: str  # "subdomain", "domain", "id" (the platform's own use), or "nowhere" (a malformed name)
    value: str


_NOWHERE = LookupKey("nowhere", "")


def lookup_key(host: str | None, header: str | None, base_domain: str) -> LookupKey | None:
    """The lookup a request asks for, or None when it names no instance.

    The header wins on the platform's own hosts (the API may be served under any name); a Host
    that is itself a tenant subdomain must agree with it (the router also checks custom domains).
    Malformed names become a lookup that finds nothing, without reaching the database.
    """
    from_host = host_key(host, base_domain)
    if not header or not header.strip():
        return from_host
    value = header.strip().lower()
    from_header = LookupKey("subdomain", value) if _SUBDOMAIN.match(value) else _NOWHERE
    if from_host is not None and from_host.kind == "subdomain" and from_host != from_header:
        raise InvalidInputError(
            "the Host and the X-KiteHub-Instance header name different instances",
            extra={"errors": [{"field": INSTANCE_HEADER, "message": "conflicts with Host", "source": "header"}]},
        )
    return from_header


def host_key(host: str | None, base_domain: str) -> LookupKey | None:
    """What the Host header names: a tenant subdomain, a custom domain, or (None) the platform."""
    if not host:
        return None
    name = host.strip().lower().rstrip(".")
    if name.startswith("["):  # [::1]:8000
        return None
    name = name.rsplit(":", 1)[0] if name.count(":") == 1 else name
    base = base_domain.lower().rstrip(".")
    if name == base or name == "localhost" or _is_ip(name):
        return None
    if name.endswith("." + base):
        label = name[: -len(base) - 1]
        if label in RESERVED_SUBDOMAINS:
            return None
        return LookupKey("subdomain", label) if _SUBDOMAIN.match(label) else _NOWHERE
    return LookupKey("domain", name) if _DOMAIN.match(name) else _NOWHERE


def _is_ip(name: str) -> bool:
    if not (name[:1].isdigit() or ":" in name):  # cheap: no host name starts like an address
        return False
    try:
        ipaddress.ip_address(name)
    except ValueError:
        return False
    return True


async def load_tenant(session: AsyncSession, key: LookupKey) -> ResolvedTenant | None:
    if key.kind == "id":
        condition = Instance.id == uuid.UUID(key.value)
    elif key.kind == "subdomain":
        condition = Instance.subdomain == key.value
    else:
        condition = (Instance.custom_domain == key.value) & Instance.custom_domain_verified_at.is_not(None)
    row = (
        await session.execute(
            select(Instance, Subscription.status, DatabaseServer)
            .outerjoin(Subscription, Subscription.instance_id == Instance.id)
            .outerjoin(DatabaseServer, DatabaseServer.id == Instance.database_server_id)
            .where(Instance.deleted_at.is_(None), condition)
        )
    ).first()
    if row is None:
        return None
    instance, subscription_status, server = row
    return ResolvedTenant(
        instance_id=instance.id,
        subdomain=instance.subdomain,
        owner_id=instance.owner_id,
        status=instance.status,
        subscription_status=subscription_status,
        schema_revision=instance.schema_revision,
        server_id=server.id if server else None,
        server_host=server.host if server else None,
        server_port=server.port if server else None,
        database_name=instance.database_name,
        database_role=instance.database_role,
        password_encrypted=instance.database_password_encrypted,
    )


class ResolutionCache:
    """Bounded, briefly cached lookups; a lookup that raced an invalidation is not stored."""

    def __init__(self, sessions: async_sessionmaker[AsyncSession], ttl_seconds: float = DEFAULT_TTL_SECONDS) -> None:
        self._sessions = sessions
        self._ttl = ttl_seconds
        self._entries: dict[LookupKey, tuple[ResolvedTenant | None, float]] = {}
        self._generation = 0  # bumped by every invalidation
        self._loading: dict[LookupKey, asyncio.Future[ResolvedTenant | None]] = {}  # lookups under way
        self.hits = 0
        self.misses = 0

    async def resolve(self, key: LookupKey) -> ResolvedTenant | None:
        if key.kind == _NOWHERE.kind:
            return None
        cached = self._entries.get(key)
        if cached is not None and cached[1] > time.monotonic():
            self.hits += 1
            return cached[0]
        loading = self._loading.get(key)
        if loading is None:  # the first asker starts the lookup as its own task...
            self.misses += 1
            loading = self._loading[key] = asyncio.ensure_future(self._load(key))
            loading.add_done_callback(lambda _: self._loading.pop(key, None))
        else:
            self.hits += 1
        # ...which every asker awaits shielded: a cancelled request does not cancel it for the others
        return await asyncio.shield(loading)

    async def _load(self, key: LookupKey) -> ResolvedTenant | None:
        generation = self._generation
        async with self._sessions() as session:
            tenant = await load_tenant(session, key)
        if generation == self._generation:  # no change was announced while we looked
            if len(self._entries) >= MAX_CACHED_LOOKUPS:
                self._entries.pop(next(iter(self._entries)))  # the oldest entry
            ttl = self._ttl if tenant is not None else NEGATIVE_TTL_SECONDS
            self._entries[key] = (tenant, time.monotonic() + ttl)
        return tenant

    def forget_instance(self, instance_id: uuid.UUID) -> None:
        self._generation += 1
        for key, (tenant, _) in list(self._entries.items()):
            if tenant is None or tenant.instance_id == instance_id:  # unknown names may have just appeared
                self._entries.pop(key, None)

    def forget_server(self, server_id: uuid.UUID) -> list[uuid.UUID]:
        self._generation += 1
        dropped = []
        for key, (tenant, _) in list(self._entries.items()):
            if tenant is None or tenant.server_id == server_id:
                self._entries.pop(key, None)
                if tenant is not None:
                    dropped.append(tenant.instance_id)
        return dropped

    def clear(self) -> None:
        self._generation += 1
        self._entries.clear()
