"""VietQR (NAPAS 247, EMVCo merchant-presented mode): build and read transfer payloads.

Layout and CRC per FACTS.md: root TLVs ``00`` format, ``01`` 11 static / 12 dynamic (an amount),
``38`` the beneficiary (``00`` A000000727, ``01`` {``00`` BIN, ``01`` account}, ``02`` service),
``53`` 704 (VND), ``54`` amount, ``58`` VN, ``62`` additional data (``08`` purpose), ``63`` CRC-16/
CCITT-FALSE over everything before it *including* the literal ``6304``.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

NAPAS_GUID = "A000000727"
TO_ACCOUNT = "QRIBFTTA"
TO_CARD = "QRIBFTTC"
MAX_TRANSFER_CONTENT = 25
_TLV_VALUE_MAX = 99


class VietQRError(ValueError):
    """A payload that is not valid VietQR: bad CRC, broken TLV, or a field out of range."""


def crc16_ccitt_false(data: bytes) -> int:
    """Poly 0x1021, init 0xFFFF, no reflection, no final xor ("123456789" -> 0x29B1)."""
    crc = 0xFFFF
    for byte in data:
        crc ^= byte << 8
        for _ in range(8):
            crc = ((crc << 1) ^ 0x1021) if crc & 0x8000 else (crc << 1)
            crc &= 0xFFFF
    return crc


def normalise_transfer_content(text: str) -> str:
    """What banks carry safely: diacritics stripped ("ủng hộ" -> "ung ho", đ -> d), letters,
    digits and spaces kept with their case, anything else dropped, at most 25 characters."""
    text = text.replace("đ", "d").replace("Đ", "D")
    stripped = "".join(ch for ch in unicodedata.normalize("NFD", text) if not unicodedata.combining(ch))
    kept = re.sub(r"[^A-Za-z0-9 ]", "", stripped)
    return re.sub(r" {2,}", " ", kept).strip()[:MAX_TRANSFER_CONTENT].rstrip()


def _tlv(tag: str, value: str) -> str:
    if len(value) > _TLV_VALUE_MAX:
        raise VietQRError(f"field {tag} is longer than {_TLV_VALUE_MAX} characters")
    return f"{tag}{len(value):02d}{value}"


@dataclass(frozen=True, slots=True)
class VietQR:
    bank_bin: str
    account: str
    amount: int | None = None
    purpose: str | None = None
    service: str = TO_ACCOUNT
    dynamic: bool | None = None  # None: dynamic exactly when there is an amount

    def payload(self) -> str:
        if not re.fullmatch(r"[0-9]{6}", self.bank_bin):
            raise VietQRError("a bank BIN is 6 digits")
        if not re.fullmatch(r"[0-9A-Za-z]{1,19}", self.account):
            raise VietQRError("an account is 1-19 letters or digits")
        if self.amount is not None and not 0 < self.amount < 10**13:
            raise VietQRError("an amount is a positive whole number of VND, at most 13 digits")
        dynamic = self.amount is not None if self.dynamic is None else self.dynamic
        beneficiary = _tlv("00", self.bank_bin) + _tlv("01", self.account)
        merchant = _tlv("00", NAPAS_GUID) + _tlv("01", beneficiary) + _tlv("02", self.service)
        body = _tlv("00", "01") + _tlv("01", "12" if dynamic else "11") + _tlv("38", merchant) + _tlv("53", "704")
        if self.amount is not None:
            body += _tlv("54", str(self.amount))
        body += _tlv("58", "VN")
        if self.purpose:
            body += _tlv("62", _tlv("08", self.purpose))
        body += "6304"
        return body + f"{crc16_ccitt_false(body.encode()):04X}"


def parse_tlv(text: str) -> dict[str, str]:
    fields: dict[str, str] = {}
    position = 0
    while position < len(text):
        header = text[position : position + 4]
        if len(header) < 4 or not header.isdigit():
            raise VietQRError(f"malformed field header at position {position}")
        tag, length = header[:2], int(header[2:])
        value = text[position + 4 : position + 4 + length]
        if len(value) != length:
            raise VietQRError(f"field {tag} at position {position} is cut short")
        fields[tag] = value
        position += 4 + length
    return fields


def parse(payload: str) -> dict[str, object]:
    """The payload's fields, after checking its CRC (compared case-insensitively)."""
    payload = payload.strip()
    if len(payload) < 8 or payload[-8:-4] != "6304":
        raise VietQRError("no CRC field (6304) at the end")
    expected = f"{crc16_ccitt_false(payload[:-4].encode()):04X}"
    if payload[-4:].upper() != expected:
        raise VietQRError(f"bad CRC: the payload says {payload[-4:]}, its content gives {expected}")
    root = parse_tlv(payload[:-8])
    merchant = parse_tlv(root.get("38", ""))
    beneficiary = parse_tlv(merchant.get("01", ""))
    additional = parse_tlv(root["62"]) if "62" in root else {}
    if merchant.get("00") != NAPAS_GUID:
        raise VietQRError("not a NAPAS VietQR payload (field 38.00 is not A000000727)")
    return {
        "format": root.get("00"),
        "dynamic": root.get("01") == "12",
        "bank_bin": beneficiary.get("00"),
        "account": beneficiary.get("01"),
        "service": merchant.get("02"),
        "currency": root.get("53"),
        "amount": int(root["54"]) if "54" in root and root["54"].isdigit() else None,
        "country": root.get("58"),
        "purpose": additional.get("08"),
        "crc": payload[-4:].upper(),
    }
