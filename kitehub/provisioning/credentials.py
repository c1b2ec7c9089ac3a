"""Tenant database names and passwords.

Names derive from the instance id, so they are unique, predictable for ``reconcile`` and always
fit PostgreSQL's 63-byte identifier limit (which would otherwise truncate them silently).
Passwords reach the server only as SCRAM-SHA-256 verifiers computed here, so the plaintext never
appears in a server log or ``pg_stat_activity``.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
import secrets
import uuid

from kitehub.pg_admin import MAX_IDENTIFIER_BYTES
from kitehub.provisioning.vault import SecretLocation

TENANT_PREFIX = "kh_tenant_"
TENANT_NAME_PATTERN = re.compile(rf"^{TENANT_PREFIX}[0-9a-f]{{32}}$")
SCRAM_ITERATIONS = 4096  # PostgreSQL's default, for passwords a person may have chosen
TENANT_SCRAM_ITERATIONS = 32  # tenant roles: random passwords (see scram_verifier)
DATABASE_PASSWORD_PURPOSE = "instance.database_password"  # noqa: S105 - a label, not a password


def database_password_location(instance_id: uuid.UUID) -> SecretLocation:
    """Where a tenant's database password is sealed: bound to its instance row."""
    return SecretLocation(DATABASE_PASSWORD_PURPOSE, str(instance_id))


def tenant_database_name(instance_id: uuid.UUID) -> str:
    name = f"{TENANT_PREFIX}{instance_id.hex}"
    assert len(name.encode()) <= MAX_IDENTIFIER_BYTES
    return name


def tenant_role_name(instance_id: uuid.UUID) -> str:
    """Same as the database name: one role per tenant database, obviously paired."""
    return tenant_database_name(instance_id)


def is_tenant_name(name: str) -> bool:
    return TENANT_NAME_PATTERN.match(name) is not None


def new_password() -> str:
    """32 random bytes, URL-safe text (43 characters)."""
    return secrets.token_urlsafe(32)


def scram_verifier(password: str, *, salt: bytes | None = None, iterations: int = SCRAM_ITERATIONS) -> str:
    """The SCRAM-SHA-256 verifier PostgreSQL stores for ``password`` (RFC 5802/7677).

    Tenant roles get ``TENANT_SCRAM_ITERATIONS``, low on purpose. Iterations stretch a guessable
    password so that a stolen verifier is slow to brute-force; tenant passwords are 32 random
    bytes, which no number of guesses reaches at any count. The client, on the other hand, pays
    every iteration on every new connection: at 4096 that was about 1 ms of the router's CPU, on
    the path of a request whose tenant has no cached engine.
    """
    salt = salt or secrets.token_bytes(16)
    salted = hashlib.pbkdf2_hmac("sha256", password.encode(), salt, iterations)
    client_key = hmac.new(salted, b"Client Key", hashlib.sha256).digest()
    stored_key = hashlib.sha256(client_key).digest()
    server_key = hmac.new(salted, b"Server Key", hashlib.sha256).digest()

    def b64(raw: bytes) -> str:
        return base64.b64encode(raw).decode()

    return f"SCRAM-SHA-256${iterations}:{b64(salt)}${b64(stored_key)}:{b64(server_key)}"
