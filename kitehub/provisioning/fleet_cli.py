"""``kitehub migrate tenants`` and ``kitehub migrate status``."""

from __future__ import annotations

import uuid

import click
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from kitehub.cli_context import PlatformContext, async_command, cli_settings, platform_context
from kitehub.provisioning.fleet import FleetOptions, FleetReport, FleetRunner, TenantResult
from kitehub.provisioning.fleet_ledger import fleet_status
from kitehub.provisioning.models import TenantMigrationStatus


def _ids(value: str | None) -> tuple[uuid.UUID, ...]:
    try:
        return tuple(uuid.UUID(item.strip()) for item in value.split(",") if item.strip()) if value else ()
    except ValueError as exc:
        raise click.BadParameter("a comma-separated list of instance ids") from exc


@click.command("tenants")
@click.option("--to", "target", default=None, help="Target revision (default: head; older = downgrade).")
@click.option("--concurrency", default=4, show_default=True, type=click.IntRange(1, 256))
@click.option("--per-server", default=4, show_default=True, type=click.IntRange(1, 256))
@click.option("--instances", default=None, help="Only these instance ids (comma-separated).")
@click.option("--server", default=None, help="Only tenants on this database server.")
@click.option(
    "--canary", default=0, show_default=True, type=click.IntRange(0), help="Migrate N first; stop if one fails."
)
@click.option("--max-failures", default=None, type=click.IntRange(1), help="Stop scheduling after K failures.")
@click.option("--dry-run", is_flag=True, help="Show what would be migrated.")
@click.option("--retry-failed", is_flag=True, help="Only the tenants that failed in the last run (to its target).")
@click.option("--force", is_flag=True, help="Allow a target below the oldest revision this code serves.")
@async_command
async def migrate_tenants(
    target: str | None,
    concurrency: int,
    per_server: int,
    instances: str | None,
    server: str | None,
    canary: int,
    max_failures: int | None,
    dry_run: bool,
    retry_failed: bool,
    force: bool,
) -> None:
    """Move every READY tenant database to a revision; exit 0 only when all succeeded."""
    options = FleetOptions(target, concurrency, per_server, _ids(instances), server, canary, max_failures,
                           dry_run, retry_failed, force)  # fmt: skip
    async with platform_context(cli_settings()) as ctx:
        report = await _run(ctx, options)
    _summary(report, dry_run)
    if not dry_run and not report.ok:
        raise click.ClickException(
            report.stopped_early or f"{report.count(TenantMigrationStatus.FAILED)} tenants failed"
        )


async def _run(ctx: PlatformContext, options: FleetOptions) -> FleetReport:
    console = Console(stderr=True)
    with Progress(
        TextColumn("migrating tenants"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(), console=console,
        disable=options.dry_run,
    ) as progress:  # fmt: skip
        task = progress.add_task("tenants", total=None)

        def advance(result: TenantResult) -> None:
            progress.advance(task)
            if result.status is TenantMigrationStatus.FAILED:
                console.print(f"[red]failed[/] {result.tenant.subdomain}: {result.error}")

        runner = FleetRunner(ctx.sessions, ctx.vault, on_result=advance)
        return await runner.run(options)


def _summary(report: FleetReport, dry_run: bool) -> None:
    console = Console()
    if dry_run:
        console.print(f"{len(report.planned)} tenants would move to {report.target or 'base'}:")
        for tenant in report.planned:
            console.print(f"  {tenant.subdomain}: {tenant.revision} -> {report.target}")
        return
    table = Table(title=f"run {report.run_id} -> {report.target or 'base'}")
    for column in ("succeeded", "skipped", "failed"):
        table.add_column(column, justify="right")
    table.add_row(*(str(report.count(status)) for status in (TenantMigrationStatus.SUCCEEDED,
                                                              TenantMigrationStatus.SKIPPED,
                                                              TenantMigrationStatus.FAILED)))  # fmt: skip
    console.print(table)
    if report.stopped_early:
        console.print(f"stopped early: {report.stopped_early}")


@click.command("status")
@async_command
async def migrate_status() -> None:
    """How many tenants sit at each revision, and the failures of the last run."""
    async with platform_context(cli_settings()) as ctx, ctx.sessions() as session:
        status = await fleet_status(session)
    table = Table(title="tenant schema revisions")
    table.add_column("revision")
    table.add_column("tenants", justify="right")
    for revision, count in sorted(status.revisions.items(), key=lambda item: str(item[0])):
        table.add_row(str(revision), str(count))
    console = Console()
    console.print(table)
    if status.last_run_id is not None:
        console.print(f"last run {status.last_run_id}: {len(status.failures)} failed")
        for subdomain, error in status.failures:
            console.print(f"  {subdomain}: {error}")
