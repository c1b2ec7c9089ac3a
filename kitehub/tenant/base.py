"""Base of every model stored in a tenant database."""

from sqlalchemy.orm import DeclarativeBase

from kitehub.orm import new_metadata


class TenantBase(DeclarativeBase):
    metadata = new_metadata()
