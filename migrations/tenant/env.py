"""Alembic environment applied to every tenant database (see kitehub.migrate_env)."""

from kitehub.migrate_env import run_migrations
from kitehub.tenant.registry import tenant_metadata

run_migrations("tenant", tenant_metadata)
