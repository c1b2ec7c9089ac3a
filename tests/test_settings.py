from __future__ import annotations

import logging
import stat
from pathlib import Path

import pytest

from kitehub.setting_values import generate_encryption_key, parse_encryption_keys
from kitehub.settings import (
    DEV_SECRETS_FILE,
    Environment,
    Settings,
    SettingsError,
    load_settings,
)


def test_defaults_follow_the_architecture(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    settings = Settings()
    assert settings.env is Environment.DEVELOPMENT
    assert settings.database_url is None
    assert settings.data_dir == tmp_path / ".kitehub"
    assert settings.base_domain == "kitehub.localhost"
    assert (settings.trial_days, settings.grace_days, settings.payment_order_ttl_hours) == (14, 7, 24)
    assert settings.effective_log_format == "console"


def test_values_come_from_kitehub_prefixed_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("KITEHUB_TRIAL_DAYS", "30")
    monkeypatch.setenv("KITEHUB_BASE_DOMAIN", "schools.example")
    monkeypatch.setenv("TRIAL_DAYS", "99")  # unprefixed names are not ours
    settings = Settings()
    assert settings.trial_days == 30
    assert settings.base_domain == "schools.example"


def test_dev_secrets_are_generated_once_with_owner_only_permissions(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.WARNING, logger="kitehub.settings"):
        first = load_settings(data_dir=tmp_path)
    secrets_file = tmp_path / DEV_SECRETS_FILE
    assert stat.S_IMODE(secrets_file.stat().st_mode) == 0o600
    assert "generated development secrets" in caplog.text
    assert first.encryption_keys is not None
    assert first.jwt_secret is not None
    assert len(parse_encryption_keys(first.encryption_keys.get_secret_value())) == 1

    second = load_settings(data_dir=tmp_path)
    assert second.encryption_keys == first.encryption_keys
    assert second.jwt_secret == first.jwt_secret


def test_configured_secrets_are_not_replaced_and_no_file_is_written(tmp_path: Path) -> None:
    key = generate_encryption_key("k1")
    settings = load_settings(data_dir=tmp_path, encryption_keys=key, jwt_secret="j" * 40)
    assert settings.encryption_keys is not None
    assert settings.encryption_keys.get_secret_value() == key
    assert not (tmp_path / DEV_SECRETS_FILE).exists()


def test_production_refuses_to_start_without_secrets(tmp_path: Path) -> None:
    with pytest.raises(SettingsError) as excinfo:
        load_settings(env="production", data_dir=tmp_path)
    assert "KITEHUB_ENCRYPTION_KEYS" in str(excinfo.value)
    assert "KITEHUB_JWT_SECRET" in str(excinfo.value)
    assert not (tmp_path / DEV_SECRETS_FILE).exists()


def test_production_never_uses_generated_secrets_even_when_the_file_exists(tmp_path: Path) -> None:
    load_settings(data_dir=tmp_path)  # a developer ran it here before
    with pytest.raises(SettingsError):
        load_settings(env="production", data_dir=tmp_path)


def test_production_with_secrets_starts_and_logs_json(tmp_path: Path) -> None:
    settings = load_settings(
        env="production", data_dir=tmp_path, encryption_keys=generate_encryption_key("p1"), jwt_secret="s" * 48
    )
    assert settings.env is Environment.PRODUCTION
    assert settings.effective_log_format == "json"


@pytest.mark.parametrize(
    ("raw", "complaint"),
    [
        ("nokid", "kid:base64key"),
        ("k1:" + "A" * 10, "32 bytes"),
        ("k1:!!!notbase64!!!", "base64"),
        (f"{generate_encryption_key('k1')},{generate_encryption_key('k1')}", "twice"),
    ],
)
def test_malformed_encryption_keys_are_refused(tmp_path: Path, raw: str, complaint: str) -> None:
    with pytest.raises(SettingsError, match=complaint):
        load_settings(data_dir=tmp_path, encryption_keys=raw, jwt_secret="j" * 40)


def test_short_jwt_secret_is_refused(tmp_path: Path) -> None:
    with pytest.raises(SettingsError, match="32 bytes"):
        load_settings(data_dir=tmp_path, jwt_secret="short")


def test_secrets_do_not_appear_in_the_settings_repr(tmp_path: Path) -> None:
    settings = load_settings(data_dir=tmp_path, database_url="postgresql://u:hunter2hunter2@db/kitehub")
    assert settings.jwt_secret is not None
    shown = repr(settings)
    assert "hunter2hunter2" not in shown
    assert settings.jwt_secret.get_secret_value() not in shown


@pytest.mark.parametrize("url", ["mysql://root:hunter2hunter2@db/kitehub", "not a url at all hunter2hunter2"])
def test_a_non_postgresql_database_url_is_refused_without_echoing_it(tmp_path: Path, url: str) -> None:
    with pytest.raises(SettingsError, match="KITEHUB_DATABASE_URL") as excinfo:
        load_settings(data_dir=tmp_path, database_url=url)
    assert "hunter2hunter2" not in str(excinfo.value)


@pytest.mark.parametrize("content", ["", "{not json", '{"jwt_secret": "only one"}'])
def test_an_unusable_dev_secrets_file_is_a_clear_error(tmp_path: Path, content: str) -> None:
    (tmp_path / DEV_SECRETS_FILE).write_text(content)
    with pytest.raises(SettingsError, match="unusable"):
        load_settings(data_dir=tmp_path)


def test_processes_starting_together_share_one_set_of_dev_secrets(tmp_path: Path) -> None:
    from concurrent.futures import ThreadPoolExecutor

    with ThreadPoolExecutor(max_workers=8) as pool:
        results = list(pool.map(lambda _: load_settings(data_dir=tmp_path), range(16)))
    assert len({settings.jwt_secret for settings in results}) == 1
    assert [path.name for path in tmp_path.iterdir()] == [DEV_SECRETS_FILE]  # no temporary files left


def test_a_port_out_of_range_is_refused(tmp_path: Path) -> None:
    with pytest.raises(SettingsError, match="KITEHUB_DATABASE_URL"):
        load_settings(data_dir=tmp_path, database_url="postgresql://kh@db:99999/kitehub")


def test_dns_nameservers_are_addresses_with_optional_ports(tmp_path: Path) -> None:
    settings = load_settings(data_dir=tmp_path, dns_nameservers="10.0.0.2, 127.0.0.1:5353,[::1]:53")
    assert settings.nameservers == [("10.0.0.2", 53), ("127.0.0.1", 5353), ("::1", 53)]
    assert load_settings(data_dir=tmp_path).nameservers == []


@pytest.mark.parametrize("raw", ["dns.google", "127.0.0.1:0", "127.0.0.1:dns", "[::1]:99999"])
def test_unusable_dns_nameservers_are_refused(tmp_path: Path, raw: str) -> None:
    with pytest.raises(SettingsError, match="KITEHUB_DNS_NAMESERVERS"):
        load_settings(data_dir=tmp_path, dns_nameservers=raw)
