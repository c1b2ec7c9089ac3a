"""The tenant database's metadata, separate from the platform's (its own alembic tree).

Tenant models arrive with the tenant-schema issue; until then the tree is set up and empty.
"""

from kitehub.tenant.base import TenantBase

tenant_metadata = TenantBase.metadata

__all__ = ["tenant_metadata"]
