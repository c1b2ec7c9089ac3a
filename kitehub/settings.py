"""The one settings object.

Everything configurable comes from ``KITEHUB_*`` environment variables, read here and nowhere
else. Secrets a developer should not have to invent (encryption keys, JWT secret) are generated
once into the data directory so a fresh clone runs with no set-up; production refuses to start
without them, because a generated key on a server's disk is a key nobody backs up.
"""

from __future__ import annotations

import json
import logging
import os
import secrets
import tempfile
from enum import StrEnum
from functools import lru_cache
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import Field, SecretStr, ValidationError, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError

from kitehub.setting_values import generate_encryption_key, parse_encryption_keys, parse_nameservers

logger = logging.getLogger(__name__)

DEV_SECRETS_FILE = "dev-secrets.json"
_GENERATED_SECRETS = ("encryption_keys", "jwt_secret")


class Environment(StrEnum):
    DEVELOPMENT = "development"
    TEST = "test"
    PRODUCTION = "production"


class SettingsError(ValueError):
    """Raised when the configuration cannot run; the message names the variable to fix."""


class Settings(BaseSettings):
    """KiteHub configuration (environment variables ``KITEHUB_<NAME>``)."""

    model_config = SettingsConfigDict(env_prefix="KITEHUB_", extra="ignore", frozen=True)

    env: Environment = Environment.DEVELOPMENT
    database_url: SecretStr | None = Field(
        default=None,
        description="Platform database; unset starts the embedded PostgreSQL.",
    )
    data_dir: Path = Field(default=Path(".kitehub"), description="pgdata, generated dev secrets, media.")
    base_domain: str = "kitehub.localhost"
    encryption_keys: SecretStr | None = Field(default=None, description="kid:base64key,... first is active")
    jwt_secret: SecretStr | None = None
    router_max_engines: Annotated[int, Field(ge=1)] = 100
    tenant_pool_size: Annotated[int, Field(ge=1)] = 5
    tenant_connection_limit: Annotated[int, Field(ge=1)] = Field(
        default=20, description="CONNECTION LIMIT of each tenant role, across all KiteHub processes"
    )
    trial_days: Annotated[int, Field(ge=0)] = 14
    max_instances_per_owner: Annotated[int, Field(ge=0)] = Field(
        default=5, description="live instances one owner may hold (0 = no limit; admins are exempt)"
    )
    grace_days: Annotated[int, Field(ge=0)] = 7
    payment_order_ttl_hours: Annotated[int, Field(ge=1)] = 24
    platform_bank_bin: Annotated[str | None, Field(pattern=r"^[0-9]{6}$")] = Field(
        default=None, description="BIN of the bank receiving subscription payments (6 digits)"
    )
    platform_bank_account: Annotated[str | None, Field(pattern=r"^[0-9]{1,19}$")] = None
    platform_bank_account_name: Annotated[str | None, Field(min_length=1, max_length=100)] = None
    bank_webhook_api_key: SecretStr | None = Field(
        default=None, description="SePay's 'Authorization: Apikey <key>' for the platform's account"
    )
    casso_webhook_secret: SecretStr | None = Field(
        default=None, description="Casso's webhook signing key (X-Casso-Signature HMAC-SHA512)"
    )
    dns_nameservers: str | None = Field(
        default=None,
        description="Custom-domain checks ask these (host or host:port, comma-separated IPs); unset: the system's",
    )
    dns_timeout_seconds: Annotated[float, Field(gt=0, le=60)] = 5.0
    auth_rate_limit: Annotated[int, Field(ge=0)] = Field(
        default=20,
        description="Requests per minute per client address to the log-in, sign-up, password and token "
        "endpoints (together); 0 turns the limit off",
    )
    bootstrap_admin_email: str | None = None
    bootstrap_admin_password: SecretStr | None = None
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"
    log_format: Literal["console", "json"] | None = Field(
        default=None, description="Unset: json in production, console elsewhere."
    )
    worker_stalled_seconds: Annotated[float, Field(ge=3)] = Field(
        default=30.0, description="A worker silent this long is dead: its jobs are run again elsewhere."
    )
    worker_give_up_seconds: Annotated[float, Field(ge=0)] = Field(
        default=300.0, description="`kitehub worker` exits 1 after its worker could not run this long; 0 = never."
    )
    test_provisioning_pause: Annotated[str | None, Field(pattern=r"^[a-z_]+:[0-9]+(\.[0-9]+)?$")] = Field(
        default=None, description="Tests only (KITEHUB_ENV=test): 'step:seconds', a pause before that step."
    )

    @field_validator("data_dir")
    @classmethod
    def _absolute_data_dir(cls, value: Path) -> Path:
        return value.expanduser().resolve()

    @field_validator("database_url")
    @classmethod
    def _postgresql_url(cls, value: SecretStr | None) -> SecretStr | None:
        if value is None:
            return None
        try:
            backend = make_url(value.get_secret_value()).get_backend_name()
        except ArgumentError:
            raise ValueError("is not a database URL (postgresql://user:password@host:5432/kitehub)") from None
        if backend not in {"postgres", "postgresql"}:
            raise ValueError(f"must be a PostgreSQL URL, not {backend!r}")
        try:
            port = make_url(value.get_secret_value()).port
        except ValueError:
            raise ValueError("has a port that is not a number") from None
        if port is not None and not 0 < port < 65536:
            raise ValueError("has a port outside 1-65535")
        return value

    @field_validator("dns_nameservers")
    @classmethod
    def _valid_nameservers(cls, value: str | None) -> str | None:
        if value is not None and value.strip():
            parse_nameservers(value)
            return value
        return None

    @field_validator("encryption_keys")
    @classmethod
    def _valid_keyring(cls, value: SecretStr | None) -> SecretStr | None:
        if value is not None:
            parse_encryption_keys(value.get_secret_value())
        return value

    @field_validator("jwt_secret")
    @classmethod
    def _strong_jwt_secret(cls, value: SecretStr | None) -> SecretStr | None:
        if value is not None and len(value.get_secret_value().encode()) < 32:
            raise ValueError("must be at least 32 bytes")
        return value

    @model_validator(mode="after")
    def _test_hooks_only_in_tests(self) -> Settings:
        if self.test_provisioning_pause is not None and self.env is not Environment.TEST:
            raise ValueError("KITEHUB_TEST_PROVISIONING_PAUSE is only honoured with KITEHUB_ENV=test")
        return self

    @model_validator(mode="after")
    def _production_needs_real_secrets(self) -> Settings:
        if self.env is Environment.PRODUCTION:
            missing = [f"KITEHUB_{name.upper()}" for name in _GENERATED_SECRETS if getattr(self, name) is None]
            if missing:
                raise ValueError(
                    f"{', '.join(missing)} must be set when KITEHUB_ENV=production "
                    "(generated development secrets are never used in production)"
                )
        return self

    @property
    def effective_log_format(self) -> Literal["console", "json"]:
        if self.log_format is not None:
            return self.log_format
        return "json" if self.env is Environment.PRODUCTION else "console"

    @property
    def nameservers(self) -> list[tuple[str, int]]:
        """``dns_nameservers`` as (address, port) pairs; empty: use the system's resolver."""
        return parse_nameservers(self.dns_nameservers) if self.dns_nameservers else []

    @property
    def keyring(self) -> list[tuple[str, bytes]]:
        if self.encryption_keys is None:
            raise SettingsError("KITEHUB_ENCRYPTION_KEYS is not set")
        return parse_encryption_keys(self.encryption_keys.get_secret_value())


def _read_or_create_dev_secrets(path: Path) -> dict[str, str]:
    """Return the generated dev secrets, creating the 0600 file exactly once.

    The file is written completely under a temporary name and then linked into place, which
    fails if another process got there first: nobody ever reads a half-written file.
    """
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        if not path.exists():
            _publish_new_dev_secrets(path)
        if path.stat().st_mode & 0o077:
            path.chmod(0o600)
        stored = json.loads(path.read_text())
        if not isinstance(stored, dict) or not all(isinstance(stored.get(name), str) for name in _GENERATED_SECRETS):
            raise ValueError("missing keys")
    except (OSError, ValueError) as exc:
        raise SettingsError(
            f"the development secrets file {path} is unusable ({type(exc).__name__}); set "
            "KITEHUB_ENCRYPTION_KEYS and KITEHUB_JWT_SECRET, or move the file away to generate new ones "
            "(data encrypted with the old keys then becomes unreadable)"
        ) from None
    return {name: stored[name] for name in _GENERATED_SECRETS}


def _publish_new_dev_secrets(path: Path) -> None:
    fresh = {"encryption_keys": generate_encryption_key("dev1"), "jwt_secret": secrets.token_urlsafe(48)}
    fd, temporary = tempfile.mkstemp(dir=path.parent, prefix=".dev-secrets-")  # created 0600
    try:
        with os.fdopen(fd, "w") as handle:
            json.dump(fresh, handle)
            handle.flush()
            os.fsync(handle.fileno())
        try:
            os.link(temporary, path)
        except FileExistsError:
            return  # another process published its secrets first: use those
    finally:
        os.unlink(temporary)
    logger.warning(
        "generated development secrets into %s; set KITEHUB_ENCRYPTION_KEYS and KITEHUB_JWT_SECRET "
        "for any real deployment",
        path,
    )


def with_dev_secrets(settings: Settings) -> Settings:
    """Fill unset secrets from the data directory's generated file (never in production)."""
    missing = [name for name in _GENERATED_SECRETS if getattr(settings, name) is None]
    if not missing:
        return settings
    if settings.env is Environment.PRODUCTION:  # the validator already refuses this; keep it explicit
        raise SettingsError("production settings need real secrets")
    stored = _read_or_create_dev_secrets(settings.data_dir / DEV_SECRETS_FILE)
    logger.warning(
        "using generated development secrets for %s",
        ", ".join(f"KITEHUB_{m.upper()}" for m in missing),
    )
    return settings.model_copy(update={name: SecretStr(stored[name]) for name in missing})


def read_settings(**overrides: Any) -> Settings:
    """Settings from the environment (plus overrides), validated, with no side effect."""
    try:
        return Settings(**overrides)
    except ValidationError as exc:
        raise SettingsError(_describe(exc)) from None  # pydantic's own text echoes inputs: secrets


def load_settings(**overrides: Any) -> Settings:
    """Build settings from the environment (plus overrides) and complete them for this machine."""
    return with_dev_secrets(read_settings(**overrides))


def _describe(error: ValidationError) -> str:
    """One line per problem, naming the variable, never repeating the value given."""
    lines = []
    for item in error.errors(include_input=False, include_url=False):
        names = [str(part) for part in item["loc"]]
        variable = f"KITEHUB_{'_'.join(names).upper()}" if names else "configuration"
        message = item["msg"].removeprefix("Value error, ")
        lines.append(f"{variable}: {message}")
    return "; ".join(lines)


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """The process-wide settings object."""
    return load_settings()
