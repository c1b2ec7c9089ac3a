"""QR images of a payment payload (segno: pure Python, SVG and PNG without Pillow)."""

from __future__ import annotations

import io

import segno

# Error correction M and a 4-module quiet zone: what banking apps scan reliably from a screen.
_ERROR = "m"
_BORDER = 4


def qr_svg(payload: str, *, scale: int = 8) -> bytes:
    buffer = io.BytesIO()
    segno.make_qr(payload, error=_ERROR).save(buffer, kind="svg", scale=scale, border=_BORDER, xmldecl=True)
    return buffer.getvalue()


def qr_png(payload: str, *, scale: int = 8) -> bytes:
    buffer = io.BytesIO()
    segno.make_qr(payload, error=_ERROR).save(buffer, kind="png", scale=scale, border=_BORDER)
    return buffer.getvalue()
