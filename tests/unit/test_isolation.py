"""No test reads the developer's settings (tests/conftest.py): a ``.env`` or an ``ALPHAMALE_*``
variable naming a database must not reach ``Settings(var_dir=tmp_path)``, whose database the
unit tests drop tables of."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from db.session import sqlite_url
from gateway.config import Settings, get_settings
from tests.conftest import HARNESS_VARIABLES, isolate_settings

PRODUCTION = "postgresql+asyncpg://alphamale@db.example.com:5432/alphamale"
KEY = "k" * 32  # a database other than SQLite needs a strong signing key


def test_every_test_runs_without_the_settings_variables(request: pytest.FixtureRequest) -> None:
    assert "_no_settings_of_the_developer" in request.fixturenames
    assert "_no_settings_of_the_session" in request.fixturenames
    leaked = [n for n in os.environ if n.startswith("ALPHAMALE_") and n not in HARNESS_VARIABLES]
    assert leaked == []


def test_a_dotenv_naming_a_database_is_ignored(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / ".env").write_text(f"ALPHAMALE_DATABASE_URL={PRODUCTION}\n")
    assert Settings(var_dir=tmp_path).database_url == sqlite_url(tmp_path)
    assert get_settings().database_url == sqlite_url(Path("var"))
    # the file is there and says what it says: read on request, it names the database
    read = Settings(var_dir=tmp_path, signing_key=KEY, _env_file=".env")  # type: ignore[call-arg]
    assert read.database_url == PRODUCTION


def test_the_isolation_removes_a_database_variable_and_keeps_the_harness_ones(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ALPHAMALE_DATABASE_URL", PRODUCTION)
    monkeypatch.setenv("alphamale_admin_token", "from-the-shell")  # names are case-blind
    monkeypatch.setenv("ALPHAMALE_DATASET_DIR", str(tmp_path / "london"))
    assert Settings(var_dir=tmp_path, signing_key=KEY).database_url == PRODUCTION
    isolate_settings(monkeypatch)
    settings = Settings(var_dir=tmp_path)
    assert settings.database_url == sqlite_url(tmp_path) and settings.admin_token is None
    assert os.environ["ALPHAMALE_DATASET_DIR"] == str(tmp_path / "london")
