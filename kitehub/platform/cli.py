"""``kitehub admin``: platform administrators from the command line."""

from __future__ import annotations

import click

from kitehub.cli_context import async_command, cli_settings, platform_context
from kitehub.platform.accounts.models import AccountRole
from kitehub.platform.accounts.services import create_account
from kitehub.platform.audit.services import SYSTEM, record


@click.group()
def admin() -> None:
    """Platform administrators."""


@admin.command("create")
@click.option("--email", required=True)
@click.option("--password", prompt=True, hide_input=True, confirmation_prompt=True, help="At least 10 characters.")
@click.option("--full-name", default="Platform admin", show_default=True)
@async_command
async def admin_create(email: str, password: str, full_name: str) -> None:
    """Create an admin account (the password is asked for when not given)."""
    async with platform_context(cli_settings()) as ctx, ctx.sessions() as session, session.begin():
        account = await create_account(
            session, email=email, password=password, full_name=full_name, role=AccountRole.ADMIN
        )
        await record(session, SYSTEM, "account.create_admin", "account", account.id, after={"email": account.email})
    click.echo(f"admin {account.email} created ({account.id})")
