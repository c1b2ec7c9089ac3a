"""The school's own audit trail of its staff accounts (kept in the tenant database)."""
