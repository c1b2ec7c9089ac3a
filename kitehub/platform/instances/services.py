"""Instances as their owners change them: creation (with its trial and its provisioning job),
updates, the bank account, deletion. Every change is audited in its own transaction."""

from __future__ import annotations

import re
import uuid
from datetime import UTC, datetime, timedelta

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from kitehub.errors import ConflictError, InvalidInputError
from kitehub.instance_changes import changed
from kitehub.jobs import enqueue
from kitehub.platform.audit.services import AuditActor, record
from kitehub.platform.idempotency.services import StoredAnswer, check_key, fingerprint, remember, replay
from kitehub.platform.instances.banks import banks_by_bin
from kitehub.platform.instances.custom_domains import new_token
from kitehub.platform.instances.lifecycle import record_creation, transition
from kitehub.platform.instances.limits import check_instance_limit
from kitehub.platform.instances.models import RESERVED_SUBDOMAINS, SUBDOMAIN_PATTERN, Instance, InstanceStatus
from kitehub.platform.instances.schemas import CreateInstanceRequest
from kitehub.platform.instances.views import instance_snapshot, view_of
from kitehub.platform.storage.models import StorageUsage
from kitehub.platform.subscriptions.models import Subscription, SubscriptionHistory, SubscriptionStatus
from kitehub.platform.tiers.models import Tier
from kitehub.provisioning import jobs as provisioning_jobs

_SUBDOMAIN = re.compile(SUBDOMAIN_PATTERN)


def is_reserved_label_form(label: str) -> bool:
    """DNS's reserved label form (RFC 5891 section 4.2.3.1): '--' as the 3rd and 4th characters."""
    return label[2:4] == "--"


def validate_subdomain(subdomain: str) -> str:
    if not _SUBDOMAIN.match(subdomain):
        raise InvalidInputError(
            "a subdomain is 3-50 characters of a-z, 0-9 and '-', not starting or ending with '-'",
            extra={"errors": [{"field": "subdomain", "message": "invalid format", "source": "body"}]},
        )
    if is_reserved_label_form(subdomain):
        raise InvalidInputError(
            "a subdomain must not have '--' as its 3rd and 4th characters: DNS keeps that form for"
            " encoded names ('xn--' is punycode), which could spell a look-alike of another school's name",
            extra={"errors": [{"field": "subdomain", "message": "reserved label form", "source": "body"}]},
        )
    if subdomain in RESERVED_SUBDOMAINS:
        raise InvalidInputError(
            f"the subdomain {subdomain!r} is reserved",
            extra={"errors": [{"field": "subdomain", "message": "reserved", "source": "body"}]},
        )
    return subdomain


async def create_instance(
    session: AsyncSession,
    *,
    owner_id: uuid.UUID,
    subdomain: str,
    organization_name: str,
    tier_code: str,
    trial_days: int,
    actor_id: uuid.UUID | None = None,
) -> Instance:
    """A PROVISIONING instance with a TRIAL subscription; its database is the provisioner's job."""
    validate_subdomain(subdomain)
    if not organization_name.strip():
        raise _invalid("organization_name", "blank")
    tier = await session.get(Tier, tier_code)
    if tier is None or not tier.is_public:
        raise _invalid("tier", f"no tier {tier_code!r}; choose one of GET /api/v1/tiers")
    if await session.scalar(select(Instance.id).where(Instance.subdomain == subdomain, Instance.deleted_at.is_(None))):
        raise ConflictError(f"the subdomain {subdomain!r} is taken", extra={"field": "subdomain"})
    now = datetime.now(UTC)
    instance = Instance(
        id=uuid.uuid4(),
        subdomain=subdomain,
        organization_name=organization_name,
        owner_id=owner_id,
        status=InstanceStatus.PROVISIONING,
    )
    subscription = Subscription(
        id=uuid.uuid4(),
        instance_id=instance.id,
        tier_code=tier.code,
        status=SubscriptionStatus.TRIAL,
        trial_end=now + timedelta(days=trial_days),
    )
    session.add(instance)
    try:
        await session.flush()  # the instance row first: the others reference it
    except IntegrityError as exc:  # a concurrent create took the subdomain between check and insert
        raise ConflictError(f"the subdomain {subdomain!r} is taken", extra={"field": "subdomain"}) from exc
    session.add_all([subscription, StorageUsage(instance_id=instance.id)])
    await session.flush()
    session.add(
        SubscriptionHistory(
            subscription_id=subscription.id,
            event="created",
            from_status=None,
            to_status=SubscriptionStatus.TRIAL,
            to_tier_code=tier.code,
            actor_id=actor_id,
            reason=f"{trial_days}-day trial",
        )
    )
    record_creation(session, instance, actor_id=actor_id)
    try:
        await session.flush()
    except IntegrityError as exc:  # a concurrent create took the subdomain between check and insert
        raise ConflictError(f"the subdomain {subdomain!r} is taken", extra={"field": "subdomain"}) from exc
    return instance


# 244 = 253 (DNS's limit) - len("_kitehub."): the name its proof is published at must fit too
CUSTOM_DOMAIN = re.compile(r"^(?=.{4,244}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$")


def _valid_custom_label(label: str) -> bool:
    """A custom domain may be internationalised: a school's own Vietnamese domain is spelled in
    punycode ('xn--…'), and proving it in DNS shows it is theirs, so such labels are kept when they
    decode. Any other label in DNS's reserved form ('ab--…') no registry hands out: refused."""
    if not is_reserved_label_form(label):
        return True
    if not label.startswith("xn--"):
        return False
    try:
        label.encode("ascii").decode("idna")
    except UnicodeError:
        return False
    return True


async def request_instance(
    session: AsyncSession,
    actor: AuditActor,
    *,
    owner_id: uuid.UUID,
    subdomain: str,
    organization_name: str,
    tier_code: str,
    trial_days: int,
    max_instances: int,
) -> Instance:
    """Create the instance and queue its provisioning in one transaction (both or neither)."""
    await check_instance_limit(session, actor, owner_id, max_instances)
    instance = await create_instance(
        session,
        owner_id=owner_id,
        subdomain=subdomain.strip().lower(),
        organization_name=organization_name.strip(),
        tier_code=tier_code.strip().upper(),
        trial_days=trial_days,
        actor_id=actor.account_id,
    )
    await enqueue(
        session,
        provisioning_jobs.PROVISION,
        queue=provisioning_jobs.QUEUE,
        args={"instance_id": str(instance.id)},
        queueing_lock=f"provision:{instance.id}",
    )
    await record(session, actor, "instance.create", "instance", instance.id, after=instance_snapshot(instance))
    return instance


async def update_instance(
    session: AsyncSession,
    actor: AuditActor,
    instance: Instance,
    *,
    organization_name: str | None,
    custom_domain: str | None,
    base_domain: str,
) -> Instance:
    before = instance_snapshot(instance)
    if organization_name is not None:
        if not organization_name.strip():
            raise _invalid("organization_name", "blank")
        instance.organization_name = organization_name.strip()
    if custom_domain is not None:
        domain = custom_domain.strip().lower().rstrip(".") or None
        if domain is not None:
            if not CUSTOM_DOMAIN.match(domain):
                raise _invalid("custom_domain", "not a domain name")
            if not all(_valid_custom_label(label) for label in domain.split(".")):
                raise _invalid(
                    "custom_domain", "a label with '--' as its 3rd and 4th characters must be valid punycode ('xn--')"
                )
            if domain == base_domain or domain.endswith("." + base_domain):
                raise _invalid("custom_domain", f"must be outside {base_domain}")
            taken = await session.scalar(  # only a verified claim makes a domain taken
                select(Instance.id).where(
                    Instance.custom_domain == domain,
                    Instance.custom_domain_verified_at.is_not(None),
                    Instance.deleted_at.is_(None),
                    Instance.id != instance.id,
                )
            )
            if taken:
                raise ConflictError(
                    f"the domain {domain!r} belongs to another instance", extra={"field": "custom_domain"}
                )
        if domain != instance.custom_domain:
            instance.custom_domain = domain
            instance.custom_domain_verified_at = None  # a new domain must be verified again...
            instance.custom_domain_token = new_token() if domain else None  # ...with a new token
            changed(session, instance.id)  # the router forgets the old domain at once
    await _flush_or_conflict(session, "custom_domain")
    after = instance_snapshot(instance)
    if after != before:  # an empty or no-op PATCH changes nothing and records nothing
        await record(session, actor, "instance.update", "instance", instance.id, before=before, after=after)
    return instance


async def set_bank_account(
    session: AsyncSession,
    actor: AuditActor,
    instance: Instance,
    *,
    bank_code: str,
    account_number: str,
    account_name: str,
    qr_template: str | None,
) -> Instance:
    if bank_code not in banks_by_bin():
        raise _invalid("bank_code", "not a bank BIN of the State Bank of Vietnam list")
    if not re.fullmatch(r"[0-9]{1,19}", account_number):
        raise _invalid("account_number", "1-19 digits")
    if not account_name.strip():
        raise _invalid("account_name", "blank")
    before = instance_snapshot(instance)
    instance.bank_bin, instance.bank_account_number = bank_code, account_number
    instance.bank_account_name = account_name.strip()
    instance.qr_template = qr_template.strip() if qr_template and qr_template.strip() else None
    await session.flush()
    await record(session, actor, "instance.bank_account", "instance", instance.id,
                 before=before, after=instance_snapshot(instance))  # fmt: skip
    return instance


async def delete_instance(session: AsyncSession, actor: AuditActor, instance: Instance) -> Instance:
    """Soft delete: the tenant is unreachable at once (every process is notified); data is kept."""
    before = instance_snapshot(instance)
    if instance.status is InstanceStatus.PROVISIONING:
        raise ConflictError("the instance is being provisioned; delete it once that has finished")
    transition(session, instance, InstanceStatus.DELETED, actor_id=actor.account_id, reason="deleted")
    await session.flush()
    await record(session, actor, "instance.delete", "instance", instance.id,
                 before=before, after=instance_snapshot(instance))  # fmt: skip
    return instance


def _invalid(field: str, message: str) -> InvalidInputError:
    return InvalidInputError(
        f"{field}: {message}", extra={"errors": [{"field": field, "message": message, "source": "body"}]}
    )


async def _flush_or_conflict(session: AsyncSession, field: str) -> None:
    try:
        await session.flush()
    except IntegrityError as exc:
        raise ConflictError(f"{field} is taken", extra={"field": field}) from exc


async def request_instance_once(
    session: AsyncSession,
    actor: AuditActor,
    *,
    owner_id: uuid.UUID,
    body: CreateInstanceRequest,
    idempotency_key: str | None,
    trial_days: int,
    base_domain: str,
    max_instances: int,
) -> StoredAnswer:
    """``request_instance`` behind an Idempotency-Key: a repeat gets the first answer."""
    key = check_key(idempotency_key)
    request_fingerprint = fingerprint(body.model_dump())
    if key is not None and (stored := await replay(session, owner_id, "instances.create", key, request_fingerprint)):
        return stored
    instance = await request_instance(
        session,
        actor,
        owner_id=owner_id,
        subdomain=body.subdomain,
        organization_name=body.organization_name,
        tier_code=body.tier,
        trial_days=trial_days,
        max_instances=max_instances,
    )
    await session.refresh(instance)
    view = await view_of(session, instance, base_domain)
    answer = StoredAnswer(202, view.model_dump(mode="json"), {"Location": f"/api/v1/instances/{instance.id}"})
    if key is not None:
        await remember(session, owner_id, "instances.create", key, request_fingerprint, answer)
    return answer
