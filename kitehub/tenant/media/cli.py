"""``kitehub storage``: the media quota against the files really stored."""

from __future__ import annotations

import click

from kitehub.cli_context import async_command, cli_settings, platform_context
from kitehub.tenant.media.reconcile import reconcile
from kitehub.tenant.media.storage import LocalStorage


@click.group()
def storage() -> None:
    """Media storage and quotas."""


@storage.command("reconcile")
@click.option("--fix", is_flag=True, help="Correct the counters, remove stray files, close records without files.")
@async_command
async def storage_reconcile(fix: bool) -> None:
    """Recompute every school's used bytes from its stored files and report the differences."""
    settings = cli_settings()
    async with platform_context(settings) as ctx:
        results = await reconcile(ctx.sessions, ctx.vault, LocalStorage(settings.data_dir / "media"), fix=fix)
    for result in results:
        if result.consistent:
            click.echo(f"{result.subdomain}: ok ({result.stored_bytes} bytes)")
            continue
        click.echo(
            f"{result.subdomain}: counted {result.counted_bytes} bytes, stored {result.stored_bytes} "
            f"(difference {result.counted_bytes - result.stored_bytes}); {len(result.stray_files)} stray file(s), "
            f"{len(result.missing_files)} record(s) without a file" + ("; fixed" if fix else "")
        )
    if not results:
        click.echo("no instances with a database")
