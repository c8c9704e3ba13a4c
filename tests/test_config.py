import pytest

from agency import create_app
from agency.config import ConfigError, Settings


def test_embedded_defaults_use_sqlite_and_inline_jobs():
    settings = Settings.from_env({})
    assert settings.database_url.startswith("sqlite:///")
    assert settings.inline_jobs


def test_production_refuses_the_default_secret():
    with pytest.raises(ConfigError, match="SECRET_KEY"):
        create_app(
            Settings.from_env({"AGENCY_ENV": "production", "DATABASE_URL": "postgresql://x/y"})
        )


def test_production_refuses_sqlite():
    with pytest.raises(ConfigError, match="PostgreSQL"):
        Settings.from_env({"AGENCY_ENV": "production", "SECRET_KEY": "s" * 40}).check()


def test_loose_postgres_urls_use_psycopg():
    settings = Settings.from_env({"DATABASE_URL": "postgres://u@h/db"})
    assert settings.database_url == "postgresql+psycopg://u@h/db"


def test_the_reconciliation_window_is_read_and_bounded():
    assert Settings.from_env({}).reconcile_window_days == 35
    assert Settings.from_env({"RECONCILE_WINDOW_DAYS": "90"}).reconcile_window_days == 90
    for days in ("0", "367"):
        with pytest.raises(ConfigError, match="RECONCILE_WINDOW_DAYS"):
            Settings.from_env({"RECONCILE_WINDOW_DAYS": days}).check()
