"""The values of settings that are more than a type: the encryption keyring, DNS servers, and a
new key for the keyring. Parsed here, validated by ``kitehub.settings``, used where they matter."""

from __future__ import annotations

import base64
import binascii
import ipaddress
import re
import secrets

_KEY_ID = re.compile(r"^[A-Za-z0-9_-]{1,32}$")


def parse_encryption_keys(raw: str) -> list[tuple[str, bytes]]:
    """Parse ``kid:base64key,...`` into (key id, 32-byte key) pairs, first one active."""
    keys: list[tuple[str, bytes]] = []
    for item in (part.strip() for part in raw.split(",")):
        if not item:
            continue
        kid, sep, encoded = item.partition(":")
        if not sep or not _KEY_ID.match(kid):
            raise ValueError("each key must look like 'kid:base64key' with kid of [A-Za-z0-9_-]{1,32}")
        try:
            key = base64.b64decode(encoded + "=" * (-len(encoded) % 4), altchars=b"-_", validate=False)
        except (binascii.Error, ValueError) as exc:
            raise ValueError(f"key {kid!r} is not valid base64") from exc
        if len(key) != 32:
            raise ValueError(f"key {kid!r} must decode to 32 bytes for AES-256, got {len(key)}")
        if any(existing == kid for existing, _ in keys):
            raise ValueError(f"key id {kid!r} appears twice")
        keys.append((kid, key))
    if not keys:
        raise ValueError("at least one key is required")
    return keys


def parse_nameservers(raw: str) -> list[tuple[str, int]]:
    """``"10.0.0.2, 127.0.0.1:5353, [::1]:53"`` into (address, port) pairs (port 53 unless given)."""
    servers = []
    for item in (part.strip() for part in raw.split(",")):
        if not item:
            continue
        host, port = item, "53"
        if item.startswith("["):
            host, _, rest = item[1:].partition("]")
            port = rest.removeprefix(":") or "53"
        elif item.count(":") == 1:
            host, port = item.split(":")
        try:
            ipaddress.ip_address(host)
        except ValueError:
            raise ValueError(f"{item!r} is not an IP address (host or host:port)") from None
        if not port.isdigit() or not 0 < int(port) < 65536:
            raise ValueError(f"{item!r} has a port outside 1-65535")
        servers.append((host, int(port)))
    return servers


def generate_encryption_key(kid: str) -> str:
    """A fresh ``kid:base64key`` entry for ``KITEHUB_ENCRYPTION_KEYS``."""
    return f"{kid}:{base64.urlsafe_b64encode(secrets.token_bytes(32)).decode()}"
