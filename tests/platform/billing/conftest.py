"""Billing tests run with the platform's receiving account and webhook secrets configured."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy.engine import URL

from kitehub.settings import Settings
from tests.conftest import make_settings
from tests.platform.billing.support import BANK_ACCOUNT, BANK_BIN, CASSO_SECRET, SEPAY_KEY


@pytest.fixture
def settings(tmp_path: Path, platform_url: URL) -> Settings:
    base = make_settings(tmp_path / "data", platform_url)
    return base.model_copy(
        update={
            "platform_bank_bin": BANK_BIN,
            "platform_bank_account": BANK_ACCOUNT,
            "platform_bank_account_name": "CONG TY KITEHUB",
            "bank_webhook_api_key": SEPAY_KEY,
            "casso_webhook_secret": CASSO_SECRET,
        }
    )
