"""Bank-transfer webhooks (SePay, Casso v2): who may deliver, and what a delivery says.

Secrets are compared in constant time. Bodies are capped (``WEBHOOK_MAX_BODY_BYTES``, refused
with 413 before they are read in full) and only the provider's documented fields are stored. A
delivery that is authentic but malformed is refused with 422 so the provider retries and the log
shows it; an authentic, well-formed delivery is always stored, whatever it turns out to mean.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import re
import time
from datetime import datetime, timedelta, timezone
from typing import Any

from pydantic import SecretStr, ValidationError

from kitehub.errors import InvalidInputError, NotAuthenticatedError, ServiceUnavailableError
from kitehub.platform.payments.models import BankProvider, TransferDirection
from kitehub.platform.payments.schemas import CassoDelivery, SePayDelivery
from kitehub.platform.payments.settlement import Delivery

VIETNAM = timezone(timedelta(hours=7), "Asia/Ho_Chi_Minh")
WEBHOOK_MAX_BODY_BYTES = 64 * 1024  # a real delivery is under 2 KiB
CASSO_SIGNATURE_MAX_AGE_SECONDS = 300  # a signed delivery replayed later than this is refused, either way
_MILLISECONDS = re.compile(r"[0-9]{1,16}")
_BANK_TIME_FORMATS = ("%Y-%m-%d %H:%M:%S", "%Y-%m-%dT%H:%M:%S")


def _configured(secret: SecretStr | None, variable: str) -> bytes:
    if secret is None:
        raise ServiceUnavailableError(f"this webhook is not configured ({variable})", retry_after_seconds=3600)
    return secret.get_secret_value().encode()


def check_sepay_key(authorization: str | None, key: SecretStr | None) -> None:
    """``Authorization: Apikey <key>``."""
    expected = _configured(key, "KITEHUB_BANK_WEBHOOK_API_KEY")
    scheme, _, given = (authorization or "").strip().partition(" ")
    if scheme.lower() != "apikey" or not hmac.compare_digest(given.strip().encode(), expected):
        raise NotAuthenticatedError("the webhook API key is missing or wrong")


def canonical_json(value: Any) -> str:
    """Compact JSON, keys sorted at every depth, non-ASCII kept (JavaScript's JSON.stringify)."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def casso_signature(secret: bytes, timestamp: str, body: Any) -> str:
    message = f"{timestamp}.{canonical_json(body)}".encode()
    return hmac.new(secret, message, hashlib.sha512).hexdigest()


def check_casso_signature(header: str | None, body: Any, secret: SecretStr | None) -> None:
    """``X-Casso-Signature: t=<ms>,v1=<hex>`` = HMAC-SHA512(key, t + "." + canonical body).

    The signed time must be within five minutes of ours (either side), so a captured delivery
    cannot be replayed later; within that window the provider transaction id deduplicates.
    """
    key = _configured(secret, "KITEHUB_CASSO_WEBHOOK_SECRET")
    parts = dict(item.strip().partition("=")[::2] for item in (header or "").split(",") if "=" in item)
    timestamp, given = parts.get("t", ""), parts.get("v1", "")
    if not _MILLISECONDS.fullmatch(timestamp) or not given:
        raise NotAuthenticatedError("the X-Casso-Signature header is missing or malformed")
    if not hmac.compare_digest(casso_signature(key, timestamp, body).encode(), given.strip().lower().encode()):
        raise NotAuthenticatedError("the X-Casso-Signature does not match the body")
    skew = time.time() - int(timestamp) / 1000
    if skew > CASSO_SIGNATURE_MAX_AGE_SECONDS:
        raise NotAuthenticatedError(f"the X-Casso-Signature is {int(skew)} s old; at most 5 minutes are accepted")
    if -skew > CASSO_SIGNATURE_MAX_AGE_SECONDS:
        raise NotAuthenticatedError(f"the X-Casso-Signature's time is {int(-skew)} s ahead of ours")


def _bank_time(value: str | None) -> datetime | None:
    """Providers send Vietnam wall-clock time without an offset; stored as UTC."""
    if not value:
        return None
    for layout in _BANK_TIME_FORMATS:
        try:
            return datetime.strptime(value.strip(), layout).replace(tzinfo=VIETNAM)
        except ValueError:
            continue
    return None  # kept raw in the delivery; the time is informative only


def _validated(model: type[SePayDelivery] | type[CassoDelivery], body: Any) -> Any:
    if not isinstance(body, dict):
        raise InvalidInputError("the webhook body must be a JSON object")
    try:
        return model.model_validate(body)
    except ValidationError as exc:
        errors = [
            {"field": ".".join(str(part) for part in error["loc"]), "message": error["msg"], "source": "body"}
            for error in exc.errors(include_input=False, include_url=False)
        ]
        raise InvalidInputError("the webhook body is not a valid delivery", extra={"errors": errors}) from None


def _known_fields(parsed: SePayDelivery | CassoDelivery) -> dict[str, Any]:
    """What is stored of a delivery: the fields the provider documents, as sent (junk is dropped)."""
    return parsed.model_dump(mode="json", exclude_unset=True)


def sepay_delivery(body: Any) -> Delivery:
    parsed: SePayDelivery = _validated(SePayDelivery, body)
    return Delivery(
        provider=BankProvider.SEPAY,
        transaction_id=str(parsed.id),
        direction=TransferDirection(parsed.transferType),
        amount=parsed.transferAmount,
        content=parsed.content or parsed.description,
        account_number=parsed.accountNumber or parsed.subAccount,
        reference=parsed.referenceCode,
        transaction_at=_bank_time(parsed.transactionDate),
        raw=_known_fields(parsed),
    )


def casso_delivery(body: Any) -> Delivery:
    parsed: CassoDelivery = _validated(CassoDelivery, body)
    if parsed.error != 0:
        raise InvalidInputError(f"Casso reported error {parsed.error}: no transaction to record")
    data = parsed.data
    return Delivery(
        provider=BankProvider.CASSO,
        transaction_id=str(data.id),
        direction=TransferDirection.IN if data.amount >= 0 else TransferDirection.OUT,
        amount=abs(data.amount),
        content=data.description,
        account_number=data.accountNumber,
        reference=data.reference,
        transaction_at=_bank_time(data.transactionDateTime),
        raw=_known_fields(parsed),
    )
