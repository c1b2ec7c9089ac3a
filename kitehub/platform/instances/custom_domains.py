"""Custom domains: an owner proves a domain with a DNS TXT record, then the router serves it.

Setting a domain (``update_instance``) draws a new token and clears any verification; the owner
publishes ``_kitehub.<domain>`` TXT ``<token>`` and asks for a check, which a real resolver
answers. The token is public by design (anyone can read it in DNS), so it is stored as it is:
what it proves is control of the domain's DNS at the time of the check, not knowledge of a
secret. Admins may verify by hand (a school whose DNS provider cannot publish TXT records).
A domain routes to one instance only: verifying one that another live instance has verified is
409, and the partial unique index settles a race between two checks.
"""

from __future__ import annotations

import secrets
from datetime import UTC, datetime

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from kitehub.errors import ConflictError, KiteHubError, NotFoundError
from kitehub.instance_changes import changed
from kitehub.platform.audit.services import AuditActor, record
from kitehub.platform.instances.dns_txt import txt_values
from kitehub.platform.instances.models import Instance
from kitehub.platform.instances.schemas import CustomDomainVerification
from kitehub.platform.instances.views import instance_snapshot, verification_of

TOKEN_PREFIX = "kitehub-verify="  # noqa: S105 - a public DNS record value, not a password


class DomainNotProvenError(KiteHubError):
    status_code, slug, title = 422, "custom-domain-not-proven", "The custom domain's TXT record was not found"


def new_token() -> str:
    return TOKEN_PREFIX + secrets.token_hex(16)


def required_verification(instance: Instance) -> CustomDomainVerification:
    verification = verification_of(instance)
    if verification is None:
        raise NotFoundError("this instance has no custom domain; set one with PATCH first")
    return verification


async def verify_by_dns(
    session: AsyncSession,
    actor: AuditActor,
    instance: Instance,
    *,
    nameservers: list[tuple[str, int]],
    timeout_seconds: float,
) -> Instance:
    """Look the TXT record up, then mark the domain verified if it carries this instance's token.

    The lookup runs before the instance row is locked (a slow resolver must not hold the lock);
    the row is then locked and re-read, and a domain or token changed meanwhile is not verified.
    """
    expected = required_verification(instance)
    if expected.verified:
        return instance
    await _refuse_if_taken(session, instance, expected.domain)
    published = await txt_values(expected.record_name, nameservers, timeout_seconds)
    if expected.record_value not in (value.strip() for value in published):
        raise DomainNotProvenError(
            f"no TXT record {expected.record_name} with the value {expected.record_value!r} was found"
            + (" (the name has other TXT values)" if published else "")
            + "; publish it and try again (DNS changes can take some minutes to appear)",
            extra={"record_name": expected.record_name, "record_value": expected.record_value},
        )
    await session.refresh(instance, with_for_update=True)
    if (instance.custom_domain, instance.custom_domain_token) != (expected.domain, expected.record_value):
        raise ConflictError("the custom domain changed during the check; check it again")
    return await mark_verified(session, actor, instance, method="dns")


async def mark_verified(session: AsyncSession, actor: AuditActor, instance: Instance, *, method: str) -> Instance:
    """Verified from now on (audited with ``method``: "dns", or "admin" for a check by hand)."""
    domain = required_verification(instance).domain
    if instance.custom_domain_verified_at is not None:
        return instance
    if instance.deleted_at is not None:
        raise ConflictError("the instance is deleted; its custom domain reaches nothing")
    await _refuse_if_taken(session, instance, domain)
    before = instance_snapshot(instance)
    instance.custom_domain_verified_at = datetime.now(UTC)
    try:
        await session.flush()
    except IntegrityError as exc:  # another instance verified it between our check and this write
        raise _taken(domain) from exc
    changed(session, instance.id)
    await record(
        session,
        actor,
        "instance.custom_domain_verify",
        "instance",
        instance.id,
        before=before,
        after={**instance_snapshot(instance), "verification_method": method},
    )
    return instance


async def _refuse_if_taken(session: AsyncSession, instance: Instance, domain: str) -> None:
    holder = await session.scalar(
        select(Instance.id).where(
            Instance.custom_domain == domain,
            Instance.custom_domain_verified_at.is_not(None),
            Instance.deleted_at.is_(None),
            Instance.id != instance.id,
        )
    )
    if holder is not None:
        raise _taken(domain)


def _taken(domain: str) -> ConflictError:
    return ConflictError(
        f"the domain {domain!r} is already verified by another instance", extra={"field": "custom_domain"}
    )
