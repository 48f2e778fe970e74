"""Settings come from JUNCTION_* variables; bad ones stop start-up with a clear message."""

from __future__ import annotations

from pathlib import Path

import pytest

from junction.settings import SettingsError, load_settings


@pytest.fixture(autouse=True)
def _clean_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    import os

    for name in list(os.environ):
        if name.startswith("JUNCTION_"):
            monkeypatch.delenv(name)
    monkeypatch.setenv("JUNCTION_VAR_DIR", str(tmp_path / "var"))


def test_defaults_use_sqlite_under_var_and_the_embedded_redis(tmp_path: Path) -> None:
    settings = load_settings()
    assert (
        settings.resolved_database_url == f"sqlite+aiosqlite:///{tmp_path / 'var' / 'junction.db'}"
    )
    assert settings.redis_url == ""
    assert settings.log_level.value == "INFO"


def test_the_demo_secret_key_is_generated_once_under_var(tmp_path: Path) -> None:
    first = load_settings().secret_keys()
    second = load_settings().secret_keys()
    assert first == second
    assert len(first[0]) >= 32
    key_file = tmp_path / "var" / "secret_key"
    assert key_file.read_text() == first[0]
    assert key_file.stat().st_mode & 0o777 == 0o600


@pytest.mark.parametrize(
    ("variable", "value", "message"),
    [
        (
            "JUNCTION_LOG_LEVEL",
            "loud",
            "JUNCTION_LOG_LEVEL: Input should be 'DEBUG', 'INFO', 'WARNING' or 'ERROR'",
        ),
        ("JUNCTION_LOG_FORMAT", "xml", "JUNCTION_LOG_FORMAT: Input should be 'text' or 'json'"),
        (
            "JUNCTION_DATABASE_URL",
            "mysql://x",
            "JUNCTION_DATABASE_URL: must start with sqlite+aiosqlite:// or postgresql+asyncpg://",
        ),
        (
            "JUNCTION_REDIS_URL",
            "http://x",
            "JUNCTION_REDIS_URL: must start with redis://, rediss:// or unix://",
        ),
        (
            "JUNCTION_PUBLIC_BASE_URL",
            "not a url",
            "JUNCTION_PUBLIC_BASE_URL: Input should be a valid URL",
        ),
        (
            "JUNCTION_RETRY_SCHEDULE_SECONDS",
            "10,soon",
            "JUNCTION_RETRY_SCHEDULE_SECONDS: must be comma-separated numbers of seconds",
        ),
        ("JUNCTION_SECRET_KEY", "short", "JUNCTION_SECRET_KEY must be at least 32 characters"),
    ],
)
def test_invalid_values_name_the_variable(
    monkeypatch: pytest.MonkeyPatch, variable: str, value: str, message: str
) -> None:
    monkeypatch.setenv(variable, value)
    with pytest.raises(SettingsError) as caught:
        load_settings()
    assert message in str(caught.value)
    assert "short" not in str(caught.value) or variable != "JUNCTION_SECRET_KEY"


def test_production_requires_a_secret_key_database_and_redis(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("JUNCTION_ENV", "production")
    with pytest.raises(SettingsError, match="JUNCTION_SECRET_KEY is required in production"):
        load_settings()
    monkeypatch.setenv("JUNCTION_SECRET_KEY", "p" * 40)
    with pytest.raises(SettingsError, match="JUNCTION_DATABASE_URL is required in production"):
        load_settings()
    monkeypatch.setenv("JUNCTION_DATABASE_URL", "postgresql+asyncpg://db/junction")
    monkeypatch.setenv("JUNCTION_REDIS_URL", "redis://redis:6379/0")
    settings = load_settings()
    assert settings.is_production
    assert "p" * 40 not in repr(settings)


def test_the_command_line_reports_bad_settings_and_exits(monkeypatch: pytest.MonkeyPatch) -> None:
    from typer.testing import CliRunner

    from junction.cli import app

    monkeypatch.setenv("JUNCTION_LOG_LEVEL", "loud")
    result = CliRunner().invoke(app, ["migrate"])
    assert result.exit_code == 2
    assert "JUNCTION_LOG_LEVEL" in result.output
