from __future__ import annotations

import base64

import pytest

from kitehub.provisioning.credentials import scram_verifier
from kitehub.provisioning.vault import SecretLocation, Vault, VaultError, key_id_of
from kitehub.setting_values import generate_encryption_key, parse_encryption_keys

ROW_A = SecretLocation("instance.database_password", "row-a")
ROW_B = SecretLocation("instance.database_password", "row-b")


def _vault(*kids: str) -> Vault:
    return Vault(parse_encryption_keys(",".join(generate_encryption_key(kid) for kid in kids)))


def test_round_trip_in_the_v1_format() -> None:
    vault = _vault("k1")
    stored = vault.encrypt("s3cret-password", ROW_A)
    version, kid, blob = stored.split(":")
    assert (version, kid) == ("v1", "k1")
    assert len(base64.urlsafe_b64decode(blob + "==")) == 12 + len("s3cret-password") + 16  # nonce, ct, tag
    assert "s3cret" not in stored
    assert vault.decrypt(stored, ROW_A) == "s3cret-password"
    assert vault.encrypt("s3cret-password", ROW_A) != stored  # a fresh nonce every time


def test_a_value_copied_to_another_row_is_refused() -> None:
    vault = _vault("k1")
    with pytest.raises(VaultError, match="does not belong to this row"):
        vault.decrypt(vault.encrypt("pw", ROW_A), ROW_B)


def test_a_value_used_for_another_purpose_is_refused() -> None:
    vault = _vault("k1")
    stored = vault.encrypt("pw", ROW_A)
    with pytest.raises(VaultError):
        vault.decrypt(stored, SecretLocation("database_server.admin_password", "row-a"))


def test_a_relabelled_key_id_is_refused() -> None:
    keys = parse_encryption_keys(f"{generate_encryption_key('k2')},{generate_encryption_key('k1')}")
    vault = Vault([keys[1], keys[0]])  # k1 active, k2 known
    stored = vault.encrypt("pw", ROW_A)
    with pytest.raises(VaultError):
        vault.decrypt(stored.replace("v1:k1:", "v1:k2:"), ROW_A)


def test_an_unknown_key_id_says_which_key_is_missing() -> None:
    stored = _vault("old").encrypt("pw", ROW_A)
    with pytest.raises(VaultError, match=r"'old'.*not in KITEHUB_ENCRYPTION_KEYS"):
        _vault("new").decrypt(stored, ROW_A)


@pytest.mark.parametrize("stored", ["plaintext", "v1:k1", "v2:k1:abcd", "v1:k1:%%%", "v1:k1:AAAA"])
def test_malformed_values_are_refused_without_echoing_them(stored: str) -> None:
    with pytest.raises(VaultError) as excinfo:
        _vault("k1").decrypt(stored, ROW_A)
    assert stored not in str(excinfo.value) or stored == "v1:k1"


def test_tampering_is_detected() -> None:
    vault = _vault("k1")
    stored = vault.encrypt("pw", ROW_A)
    flipped = stored[:-2] + ("A" if stored[-2] != "A" else "B") + stored[-1]
    with pytest.raises(VaultError, match="authentication failed"):
        vault.decrypt(flipped, ROW_A)


def test_rotate_moves_to_the_active_key_and_keeps_the_secret() -> None:
    old_keys = parse_encryption_keys(generate_encryption_key("old"))
    new_keys = parse_encryption_keys(generate_encryption_key("new"))
    stored = Vault(old_keys).encrypt("pw", ROW_A)
    both = Vault(new_keys + old_keys)
    rotated = both.rotate(stored, ROW_A)
    assert key_id_of(rotated) == "new"
    assert Vault(new_keys).decrypt(rotated, ROW_A) == "pw"
    assert both.rotate(rotated, ROW_A) == rotated  # already current: unchanged


def test_scram_verifier_matches_the_rfc_7677_example() -> None:
    """RFC 7677 section 3: user "user", password "pencil", salt W22ZaJ0SNY7soEsUEjb6gQ==, 4096."""
    verifier = scram_verifier("pencil", salt=base64.b64decode("W22ZaJ0SNY7soEsUEjb6gQ=="))
    stored_key, server_key = verifier.split("$")[2].split(":")
    assert verifier.startswith("SCRAM-SHA-256$4096:W22ZaJ0SNY7soEsUEjb6gQ==$")
    assert server_key == "wfPLwcE6nTWhTAmQ7tl2KeoiWGPlZqQxSrmfPwDl2dU="
    assert len(base64.b64decode(stored_key)) == 32
