"""VietQR payloads reproduce published ones byte for byte; bad ones are refused clearly."""

from __future__ import annotations

import pytest

from kitehub.platform.payments.vietqr import (
    TO_CARD,
    VietQR,
    VietQRError,
    crc16_ccitt_false,
    normalise_transfer_content,
    parse,
)

PUBLISHED = [
    # NAPAS 247 example (VietinBank), as reproduced by open-source VietQR generators
    (VietQR("970415", "0011001932418", 120000, "ung ho lu lut"),
     "00020101021238570010A0000007270127000697041501130011001932418"
     "0208QRIBFTTA530370454061200005802VN62170813ung ho lu lut6304C15C"),
    # a Vietcombank invoice from a public project's API documentation
    (VietQR("970436", "1023456789", 1943000, "TT000069"),
     "00020101021238540010A00000072701240006970436011010234567890208QRIBFTTA"
     "5303704540719430005802VN62120808TT0000696304A8E5"),
    # a payOS order (alphanumeric virtual account) from a public project's data
    (VietQR("970422", "VQRQADAIJ5512", 7000, "TL89 100"),
     "00020101021238570010A000000727012700069704220113VQRQADAIJ55120208QRIBFTTA"
     "530370454047000" "5802VN62120808TL89 1006304E346"),
]  # fmt: skip


def test_the_crc_check_value() -> None:
    assert crc16_ccitt_false(b"123456789") == 0x29B1


@pytest.mark.parametrize(("qr", "published"), PUBLISHED)
def test_published_payloads_byte_for_byte(qr: VietQR, published: str) -> None:
    assert qr.payload() == published
    fields = parse(published)
    assert (fields["bank_bin"], fields["account"], fields["amount"], fields["purpose"]) == (
        qr.bank_bin, qr.account, qr.amount, qr.purpose,
    )  # fmt: skip
    assert fields["dynamic"] is True


def test_a_published_card_transfer_crc() -> None:
    """A public test suite's CRC for a card transfer with a bill number in field 62."""
    body = ("00020101021238600010A00000072701300006970403011697040311012345670208QRIBFTTC"
            "530370454061800005802VN62340107NPS68690819thanh toan don hang6304")  # fmt: skip
    assert f"{crc16_ccitt_false(body.encode()):04X}" == "A203"
    assert parse(body + "a203")["service"] == TO_CARD  # CRCs compare case-insensitively


def test_static_when_no_amount_or_asked() -> None:
    assert VietQR("970436", "1023456789").payload().startswith("000201010211")
    assert VietQR("970436", "1023456789", 5000, dynamic=False).payload().startswith("000201010211")


@pytest.mark.parametrize(
    ("payload", "complaint"),
    [
        (PUBLISHED[0][1][:-4] + "0000", "bad CRC"),
        ("00020101021238", "no CRC"),
        ("0002010102123899", "no CRC"),
        ("0002010103ab" + "6304" + f"{crc16_ccitt_false(b'0002010103ab6304'):04X}", "cut short"),
        ("00020101021138" + "6304" + f"{crc16_ccitt_false(b'000201010211386304'):04X}", "malformed"),
    ],
)
def test_bad_payloads_are_refused(payload: str, complaint: str) -> None:
    with pytest.raises(VietQRError, match=complaint):
        parse(payload)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("ủng hộ", "ung ho"),
        ("Đóng học phí", "Dong hoc phi"),
        ("HOCPHI 12 Nguyễn Văn Đạt!", "HOCPHI 12 Nguyen Van Dat"),
        ("a@b.c / #1", "abc 1"),
        ("x" * 40, "x" * 25),
    ],
)
def test_transfer_content_is_made_bank_safe(text: str, expected: str) -> None:
    assert normalise_transfer_content(text) == expected


def test_the_cli_encodes_and_decodes() -> None:
    from tests.cli_support import clean_env, run_kitehub

    encoded = run_kitehub("vietqr", "encode", "--bin", "970415", "--account", "0011001932418", "--amount",
                          "120000", "--purpose", "ủng hộ lũ lụt", env=clean_env())  # fmt: skip
    assert encoded.returncode == 0, encoded.stderr
    assert encoded.stdout.strip() == PUBLISHED[0][1]
    static = run_kitehub("vietqr", "encode", "--bin", "970415", "--account", "1", "--amount", "5", "--static",
                         env=clean_env())  # fmt: skip
    assert static.stdout.startswith("000201010211")

    decoded = run_kitehub("vietqr", "decode", PUBLISHED[1][1], env=clean_env())
    assert decoded.returncode == 0
    assert '"amount": 1943000' in decoded.stdout
    broken = run_kitehub("vietqr", "decode", PUBLISHED[1][1][:-1] + "0", env=clean_env())
    assert broken.returncode == 2
    assert "bad CRC" in broken.stderr
    assert "Traceback" not in broken.stderr
