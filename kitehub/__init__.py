"""KiteHub: control plane for online-school instances, one PostgreSQL database per tenant."""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("kitehub")
except PackageNotFoundError:  # pragma: no cover - only when run from a bare source tree
    __version__ = "0.0.0"
