"""Field rules shared by tenant resources; each failure is a 422 naming its field."""

from __future__ import annotations

import re
from datetime import date

from kitehub.errors import InvalidInputError

_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
_PHONE = re.compile(r"^\+?[0-9 .-]{6,20}$")


def invalid(field: str, message: str) -> InvalidInputError:
    return InvalidInputError(
        f"{field}: {message}", extra={"errors": [{"field": field, "message": message, "source": "body"}]}
    )


def required_text(field: str, value: str) -> str:
    cleaned = value.strip()
    if not cleaned:
        raise invalid(field, "blank")
    return cleaned


def optional_email(value: str | None) -> str | None:
    if value is None or not value.strip():
        return None
    email = value.strip().lower()
    if not _EMAIL.match(email):
        raise invalid("email", "not an e-mail address")
    return email


def optional_phone(value: str | None) -> str | None:
    if value is None or not value.strip():
        return None
    if not _PHONE.match(value.strip()):
        raise invalid("phone", "digits, spaces, dots or dashes, optionally after +")
    return value.strip()


def past_date(field: str, value: date | None) -> date | None:
    if value is not None and (value > date.today() or value.year < 1900):
        raise invalid(field, "must be a date between 1900 and today")
    return value
