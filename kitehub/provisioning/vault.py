"""The credential vault: AES-256-GCM with a keyring, bound to where each secret is stored.

Stored form: ``v1:<kid>:<base64url(nonce || ciphertext || tag)>``. The associated data names the
purpose, the key id and the row id, so a value copied to another row, used for another purpose,
or relabelled with another key id fails authentication instead of decrypting. (Fernet has no
associated data: a token copied between rows would still decrypt.)
"""

from __future__ import annotations

import base64
import os
from dataclasses import dataclass

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

FORMAT_VERSION = "v1"
NONCE_BYTES = 12


class VaultError(Exception):
    """A stored secret cannot be decrypted here; the message says why, never the secret."""


@dataclass(frozen=True, slots=True)
class SecretLocation:
    """Where a secret lives: what it is for and which row holds it."""

    purpose: str
    row_id: str

    def associated_data(self, kid: str) -> bytes:
        return f"kitehub:{FORMAT_VERSION}:{self.purpose}:{kid}:{self.row_id}".encode()


class Vault:
    def __init__(self, keyring: list[tuple[str, bytes]]) -> None:
        if not keyring:
            raise ValueError("the keyring needs at least one key")
        self._keys = {kid: AESGCM(key) for kid, key in keyring}
        self.active_kid = keyring[0][0]

    @property
    def key_ids(self) -> list[str]:
        return list(self._keys)

    def encrypt(self, plaintext: str, location: SecretLocation) -> str:
        nonce = os.urandom(NONCE_BYTES)
        sealed = self._keys[self.active_kid].encrypt(
            nonce, plaintext.encode(), location.associated_data(self.active_kid)
        )
        encoded = base64.urlsafe_b64encode(nonce + sealed).decode().rstrip("=")
        return f"{FORMAT_VERSION}:{self.active_kid}:{encoded}"

    def decrypt(self, stored: str, location: SecretLocation) -> str:
        kid, blob = _split(stored, location)
        key = self._keys.get(kid)
        if key is None:
            raise VaultError(
                f"the secret of {location.purpose} {location.row_id} is encrypted with key id {kid!r}, "
                "which is not in KITEHUB_ENCRYPTION_KEYS"
            )
        try:
            plaintext = key.decrypt(blob[:NONCE_BYTES], blob[NONCE_BYTES:], location.associated_data(kid))
        except InvalidTag:
            raise VaultError(
                f"the secret of {location.purpose} {location.row_id} does not belong to this row or was "
                "altered (authentication failed)"
            ) from None
        return plaintext.decode()

    def rotate(self, stored: str, location: SecretLocation) -> str:
        """Re-encrypt ``stored`` with the active key (unchanged when it already uses it)."""
        if key_id_of(stored) == self.active_kid:
            return stored
        return self.encrypt(self.decrypt(stored, location), location)


def key_id_of(stored: str) -> str | None:
    parts = stored.split(":", 2)
    return parts[1] if len(parts) == 3 and parts[0] == FORMAT_VERSION else None


def _split(stored: str, location: SecretLocation) -> tuple[str, bytes]:
    parts = stored.split(":", 2)
    if len(parts) != 3 or parts[0] != FORMAT_VERSION:
        raise VaultError(f"the secret of {location.purpose} {location.row_id} is not in the {FORMAT_VERSION} format")
    try:
        blob = base64.urlsafe_b64decode(parts[2] + "=" * (-len(parts[2]) % 4))
    except ValueError:
        raise VaultError(f"the secret of {location.purpose} {location.row_id} is not valid base64") from None
    if len(blob) < NONCE_BYTES + 16:
        raise VaultError(f"the secret of {location.purpose} {location.row_id} is truncated")
    return parts[1], blob
