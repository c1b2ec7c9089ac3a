"""Alembic environment of the platform database (see kitehub.migrate_env)."""

from kitehub.migrate_env import run_migrations
from kitehub.platform.registry import platform_metadata

run_migrations("platform", platform_metadata)
