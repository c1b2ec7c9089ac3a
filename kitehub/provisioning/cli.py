"""``kitehub servers``, ``kitehub tenants`` and ``kitehub keys``: operating the tenant fleet."""

from __future__ import annotations

import uuid

import click

from kitehub.cli_context import PlatformContext, async_command, cli_settings, platform_context
from kitehub.platform.accounts.services import ensure_owner_account
from kitehub.platform.instances.queries import find_instance, list_instances
from kitehub.platform.instances.services import create_instance
from kitehub.provisioning.key_rotation import key_usage, rotate_keys
from kitehub.provisioning.provisioner import Provisioner, ProvisioningFailedError
from kitehub.provisioning.servers import drain_server, harden_server, list_servers, register_server, verify_server
from kitehub.provisioning.teardown import deprovision, drop_orphans, find_orphans
from kitehub.setting_values import generate_encryption_key


@click.group()
def servers() -> None:
    """PostgreSQL servers that hold tenant databases."""


@servers.command("add")
@click.argument("name")
@click.option(
    "--url", required=True, help="postgresql://admin:password@host:5432/postgres (superuser, or CREATEDB+CREATEROLE)"
)
@click.option("--max-tenants", default=500, show_default=True, type=click.IntRange(1))
@async_command
async def servers_add(name: str, url: str, max_tenants: int) -> None:
    """Register a server; new tenants may be placed on it at once."""
    async with platform_context(cli_settings()) as ctx:
        await verify_server(url)
        async with ctx.sessions() as session, session.begin():
            server = await register_server(session, ctx.vault, name=name, url=url, max_tenants=max_tenants)
        await harden_server(server, ctx.vault)
        click.echo(f"added server {server.name} ({server.host}:{server.port}, max {server.max_tenants} tenants)")


@servers.command("list")
@async_command
async def servers_list() -> None:
    async with platform_context(cli_settings()) as ctx, ctx.sessions() as session:
        click.echo(f"{'NAME':<20} {'STATUS':<9} {'TENANTS':>12}  HOST")
        for usage in await list_servers(session):
            server = usage.server
            tenants = f"{usage.tenants}/{server.max_tenants}"
            click.echo(f"{server.name:<20} {server.status.value:<9} {tenants:>12}  {server.host}:{server.port}")


@servers.command("drain")
@click.argument("name")
@async_command
async def servers_drain(name: str) -> None:
    """Stop placing new tenants on a server (its tenants stay)."""
    async with platform_context(cli_settings()) as ctx, ctx.sessions() as session, session.begin():
        await drain_server(session, name)
    click.echo(f"server {name} is draining: no new tenants will be placed on it")


@click.group()
def tenants() -> None:
    """Tenant databases: provision, retry, deprovision, list, reconcile."""


@tenants.command("provision")
@click.argument("subdomain")
@click.option("--owner", "owner_email", required=True, help="Owner's e-mail (account created if missing).")
@click.option("--organization", default=None, help="Organisation name (default: the subdomain).")
@click.option("--tier", default="BASIC", show_default=True)
@click.option("--template/--no-template", default=True, show_default=True, help="Clone the tenant template.")
@async_command
async def tenants_provision(
    subdomain: str, owner_email: str, organization: str | None, tier: str, template: bool
) -> None:
    """Create an instance and its database, role and schema."""
    settings = cli_settings()
    async with platform_context(settings) as ctx:
        async with ctx.sessions() as session, session.begin():
            owner = await ensure_owner_account(session, owner_email)
            instance = await create_instance(
                session,
                owner_id=owner.id,
                subdomain=subdomain,
                organization_name=organization or subdomain,
                tier_code=tier.upper(),
                trial_days=settings.trial_days,
            )
        await _provision(ctx, instance.id, template=template)
        click.echo(f"{subdomain} is READY ({instance.id})")


async def _provision(
    ctx: PlatformContext, instance_id: uuid.UUID, *, template: bool = True, retry: bool = False
) -> None:
    provisioner = Provisioner(
        ctx.sessions, ctx.vault, connection_limit=ctx.settings.tenant_connection_limit, use_template=template
    )
    try:
        await (provisioner.retry(instance_id) if retry else provisioner.provision(instance_id))
    except ProvisioningFailedError as exc:
        raise click.ClickException(f"{exc}\nfix the cause, then run: kitehub tenants retry {instance_id}") from exc


@tenants.command("retry")
@click.argument("instance")
@async_command
async def tenants_retry(instance: str) -> None:
    """Resume a FAILED provisioning from the step that failed."""
    settings = cli_settings()
    async with platform_context(settings) as ctx:
        async with ctx.sessions() as session:
            found = await find_instance(session, instance)
        await _provision(ctx, found.id, retry=True)
        click.echo(f"{found.subdomain} is READY ({found.id})")


@tenants.command("deprovision")
@click.argument("instance")
@click.confirmation_option(prompt="Drop this tenant's database and role? This cannot be undone.")
@async_command
async def tenants_deprovision(instance: str) -> None:
    """Drop the tenant's database and role; the instance becomes PURGED."""
    async with platform_context(cli_settings()) as ctx, ctx.sessions() as session, session.begin():
        found = await find_instance(session, instance)
        await deprovision(session, ctx.vault, found.id)
    click.echo(f"{found.subdomain}: database and role dropped")


@tenants.command("list")
@click.option("--all", "include_purged", is_flag=True, help="Include purged instances.")
@async_command
async def tenants_list(include_purged: bool) -> None:
    async with platform_context(cli_settings()) as ctx, ctx.sessions() as session:
        click.echo(f"{'SUBDOMAIN':<24} {'STATUS':<13} {'REVISION':<10} ID")
        for item in await list_instances(session, include_purged=include_purged):
            click.echo(f"{item.subdomain:<24} {item.status.value:<13} {item.schema_revision or '-':<10} {item.id}")


@tenants.command("reconcile")
@click.option("--fix", is_flag=True, help="Drop the orphans found.")
@async_command
async def tenants_reconcile(fix: bool) -> None:
    """List tenant databases and roles that belong to no instance."""
    async with platform_context(cli_settings()) as ctx, ctx.sessions() as session:
        orphans = await find_orphans(session, ctx.vault)
        for item in orphans:
            for database in item.databases:
                click.echo(f"{item.server}: orphan database {database}")
            for role in item.roles:
                click.echo(f"{item.server}: orphan role {role}")
        if not orphans:
            click.echo("no orphans")
        elif fix:
            await drop_orphans(session, ctx.vault, orphans)
            click.echo("orphans dropped")


@click.group()
def keys() -> None:
    """Encryption keys of the credential vault."""


@keys.command("generate")
@click.option("--kid", default=None, help="Key id (default: k<unix time>).")
def keys_generate(kid: str | None) -> None:
    """Print a new key entry for KITEHUB_ENCRYPTION_KEYS (put it first to make it active)."""
    import time

    click.echo(generate_encryption_key(kid or f"k{int(time.time())}"))


@keys.command("rotate")
@click.option("--batch-size", default=100, show_default=True, type=click.IntRange(1, 10_000))
@async_command
async def keys_rotate(batch_size: int) -> None:
    """Re-encrypt every stored secret with the active key (resumable), then report key usage."""
    async with platform_context(cli_settings()) as ctx:
        report = await rotate_keys(ctx.sessions, ctx.vault, batch_size=batch_size)
        for label, count in report.rotated.items():
            click.echo(f"{label}: {count} re-encrypted")
        for label, usage in report.usage.items():
            counts = ", ".join(f"{kid}: {n}" for kid, n in sorted(usage.items())) or "none stored"
            click.echo(f"{label}: {counts}")
        for label, failures in report.failed.items():
            for failure in failures:
                click.echo(f"{label}: NOT rotated {failure}", err=True)
        if report.failed:
            raise click.ClickException("some secrets could not be decrypted; see above")
        if report.still_on_old_keys:
            raise click.ClickException(f"{report.still_on_old_keys} secrets still use an old key; run again")


@keys.command("usage")
@async_command
async def keys_usage() -> None:
    """How many stored secrets each key id protects."""
    async with platform_context(cli_settings()) as ctx, ctx.sessions() as session:
        for label, usage in (await key_usage(session)).items():
            click.echo(f"{label}: " + (", ".join(f"{k}: {n}" for k, n in sorted(usage.items())) or "none stored"))
