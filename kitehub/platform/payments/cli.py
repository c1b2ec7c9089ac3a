"""``kitehub vietqr``: build and read VietQR payloads (for support staff)."""

from __future__ import annotations

import json
import sys

import click

from kitehub.platform.payments.vietqr import VietQR, VietQRError, normalise_transfer_content, parse


@click.group()
def vietqr() -> None:
    """VietQR transfer payloads."""


@vietqr.command("encode")
@click.option("--bin", "bank_bin", required=True, help="The bank's 6-digit BIN, e.g. 970436.")
@click.option("--account", required=True)
@click.option("--amount", type=click.IntRange(1), default=None, help="VND; makes the code dynamic.")
@click.option("--purpose", default=None, help="Transfer content (made bank-safe, at most 25 characters).")
@click.option("--static", is_flag=True, help="A static code even with an amount.")
def encode(bank_bin: str, account: str, amount: int | None, purpose: str | None, static: bool) -> None:
    """Print the payload to put in a QR code."""
    content = normalise_transfer_content(purpose) if purpose else None
    try:
        click.echo(VietQR(bank_bin, account, amount, content or None, dynamic=False if static else None).payload())
    except VietQRError as exc:
        click.echo(f"Error: {exc}", err=True)
        sys.exit(2)


@vietqr.command("decode")
@click.argument("payload")
def decode(payload: str) -> None:
    """Print the payload's fields as JSON (exit 2 when it is not valid VietQR)."""
    try:
        click.echo(json.dumps(parse(payload), ensure_ascii=False, indent=2))
    except VietQRError as exc:
        click.echo(f"Error: {exc}", err=True)
        sys.exit(2)
