"""Configuration, read once from the environment (`JUNCTION_*`).

Every process builds one `Settings` at start-up and passes it down; nothing reads the
environment anywhere else. Invalid values stop start-up with a message that names the
variable and says what is wrong (`SettingsError`).
"""

from __future__ import annotations

import secrets
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any

from pydantic import (
    AnyHttpUrl,
    Field,
    SecretStr,
    ValidationError,
    field_validator,
    model_validator,
)
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

ENV_PREFIX = "JUNCTION_"
MIN_SECRET_KEY_LENGTH = 32


class Environment(StrEnum):
    development = "development"
    production = "production"


class LogFormat(StrEnum):
    text = "text"
    json = "json"


class LogLevel(StrEnum):
    DEBUG = "DEBUG"
    INFO = "INFO"
    WARNING = "WARNING"
    ERROR = "ERROR"


class SettingsError(Exception):
    """Raised instead of pydantic's error so the message speaks in environment variables."""


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_prefix=ENV_PREFIX,
        env_file=None,
        extra="ignore",
        frozen=True,
        validate_default=True,
    )

    env: Environment = Environment.development
    var_dir: Path = Path("var")
    database_url: str = ""
    redis_url: str = Field(
        default="",
        description="Redis DSN; empty starts the embedded redis-server under var/.",
    )
    queue_name: str = "junction:queue"
    secret_key: SecretStr = SecretStr("")
    previous_secret_keys: Annotated[list[SecretStr], NoDecode] = Field(
        default_factory=list,
        description="Comma-separated older secret keys: what they encrypted stays readable.",
    )
    public_base_url: AnyHttpUrl = AnyHttpUrl("http://127.0.0.1:8000")
    log_level: LogLevel = LogLevel.INFO
    log_format: LogFormat = LogFormat.text

    max_body_bytes: int = Field(default=1024 * 1024, gt=0)
    event_lease_seconds: float = Field(
        default=120.0,
        gt=0,
        description="How long a worker owns an event before another may take it over.",
    )
    sweep_interval_seconds: float = Field(default=15.0, gt=0)
    retry_schedule_seconds: Annotated[list[float], NoDecode] = Field(
        default_factory=lambda: [10.0, 60.0, 300.0, 1800.0, 7200.0, 21600.0, 43200.0, 86400.0],
        description="Comma-separated delays before each retry; one more failure is final.",
    )
    new_workspace_plugins: Annotated[list[str], NoDecode] = Field(
        default_factory=list,
        description="Comma-separated plugins installed, unconfigured, in every workspace "
        "made at sign-up, so its admins can configure them without waiting for staff "
        "(where billing is on, those the free plan includes).",
    )
    worker_concurrency: int = Field(default=20, gt=0)
    worker_shutdown_seconds: int = Field(
        default=20,
        ge=0,
        le=3600,
        description="On SIGTERM, how long a worker lets its running events finish before it "
        "stops them and hands them back (keep it under Kubernetes' grace period).",
    )
    payload_retention_days: int = Field(
        default=30, ge=0, description="Days a settled event keeps its payload; 0: forever."
    )
    worker_metrics_port: int = Field(
        default=0, ge=0, le=65535, description="Serve a worker's Prometheus metrics here; 0: off."
    )
    tenant_dispatch_rate: float = Field(
        default=200.0,
        gt=0,
        description="Events per second one tenant's queue releases; a flood waits its turn.",
    )
    endpoint_cache_seconds: float = Field(
        default=5.0,
        ge=0,
        description="How long an API process remembers which endpoint a webhook URL names.",
    )
    smtp_url: SecretStr = Field(
        default=SecretStr(""),
        description="Where email goes: smtp://user:password@host:587 or smtps://…; empty: nowhere.",
    )
    mail_from: str = Field(default="Junction <no-reply@localhost>", min_length=3)
    session_days: int = Field(default=14, gt=0, le=365, description="How long a log-in lasts.")
    telegram_bot_token: SecretStr = Field(
        default=SecretStr(""),
        description="The bot that sends Telegram alerts for tenants with no bot of their own.",
    )
    telegram_api_url: AnyHttpUrl = Field(
        default=AnyHttpUrl("https://api.telegram.org"),
        description="Telegram's Bot API (a local Bot API server, if one is run).",
    )
    alert_webhooks_to_private_hosts: bool = Field(
        default=False,
        description="Let alert webhooks reach loopback and private addresses (never on a "
        "shared installation: a tenant could probe its network).",
    )
    tenant_max_in_flight: int = Field(
        default=10,
        gt=0,
        description="Claims (an event or a batch) of one tenant processed at once, across workers.",
    )
    stripe_secret_key: SecretStr = Field(
        default=SecretStr(""),
        description="Stripe's secret API key; empty: billing is off and every tenant unlimited.",
    )
    stripe_webhook_secret: SecretStr = Field(
        default=SecretStr(""),
        description="The signing secret of the Stripe webhook endpoint (whsec_…).",
    )
    stripe_api_url: AnyHttpUrl | None = Field(
        default=None, description="Stripe's API (a local Stripe server, if one is run)."
    )
    web_dir: Path | None = Field(
        default=None, description="The built web app; empty: found beside the installation."
    )
    billing_plans_file: Path | None = Field(
        default=None, description="The plans (YAML); empty: the plans shipped with Junction."
    )
    billing_grace_days: float = Field(
        default=7.0,
        ge=0,
        description="How long an unpaid subscription keeps working before its events pause.",
    )

    @field_validator("log_level", mode="before")
    @classmethod
    def _upper_level(cls, value: Any) -> Any:
        return value.upper() if isinstance(value, str) else value

    @field_validator("previous_secret_keys", "new_workspace_plugins", mode="before")
    @classmethod
    def _split_keys(cls, value: Any) -> Any:
        if isinstance(value, str):
            return [part.strip() for part in value.split(",") if part.strip()]
        return value

    @field_validator("retry_schedule_seconds", mode="before")
    @classmethod
    def _split_schedule(cls, value: Any) -> Any:
        if isinstance(value, str):
            try:
                return [float(part) for part in value.split(",") if part.strip()]
            except ValueError as exc:
                raise ValueError("must be comma-separated numbers of seconds") from exc
        return value

    @field_validator("retry_schedule_seconds")
    @classmethod
    def _positive_schedule(cls, value: list[float]) -> list[float]:
        if any(delay <= 0 for delay in value):
            raise ValueError("every delay must be greater than zero")
        return value

    @field_validator("smtp_url")
    @classmethod
    def _smtp_url(cls, value: SecretStr) -> SecretStr:
        from junction.accounts.mail import SmtpServer  # imported here: it reads the settings

        if value.get_secret_value():
            SmtpServer.parse(value.get_secret_value())
        return value

    @field_validator("database_url")
    @classmethod
    def _known_driver(cls, value: str) -> str:
        if value and not value.startswith(("sqlite+aiosqlite://", "postgresql+asyncpg://")):
            raise ValueError("must start with sqlite+aiosqlite:// or postgresql+asyncpg://")
        return value

    @field_validator("redis_url")
    @classmethod
    def _redis_scheme(cls, value: str) -> str:
        if value and not value.startswith(("redis://", "rediss://", "unix://")):
            raise ValueError("must start with redis://, rediss:// or unix://")
        return value

    @model_validator(mode="after")
    def _production_secret(self) -> Settings:
        key = self.secret_key.get_secret_value()
        if self.env is Environment.production:
            if not key:
                raise ValueError("JUNCTION_SECRET_KEY is required in production")
            if len(key) < MIN_SECRET_KEY_LENGTH:
                raise ValueError(
                    f"JUNCTION_SECRET_KEY must be at least {MIN_SECRET_KEY_LENGTH} characters"
                )
            if not self.database_url:
                raise ValueError("JUNCTION_DATABASE_URL is required in production")
            if not self.redis_url:
                raise ValueError("JUNCTION_REDIS_URL is required in production")
        elif key and len(key) < MIN_SECRET_KEY_LENGTH:
            raise ValueError(
                f"JUNCTION_SECRET_KEY must be at least {MIN_SECRET_KEY_LENGTH} characters"
            )
        if self.billing_enabled and not self.stripe_webhook_secret.get_secret_value():
            raise ValueError(
                "JUNCTION_STRIPE_WEBHOOK_SECRET is required with JUNCTION_STRIPE_SECRET_KEY: "
                "without it no Stripe event could be trusted"
            )
        if self.billing_enabled:
            from junction.billing.plans import PlansError, load_plans  # reads no settings

            try:
                load_plans(self.billing_plans_file)
            except PlansError as exc:
                raise ValueError(f"JUNCTION_BILLING_PLANS_FILE: {exc}") from None
        return self

    @property
    def billing_enabled(self) -> bool:
        """Billing runs only with a Stripe key: self-hosted installations and the demo
        have none, and every tenant there is unlimited."""
        return bool(self.stripe_secret_key.get_secret_value())

    @property
    def is_production(self) -> bool:
        return self.env is Environment.production

    @property
    def resolved_database_url(self) -> str:
        if self.database_url:
            return self.database_url
        return f"sqlite+aiosqlite:///{(self.var_dir / 'junction.db').resolve()}"

    def secret_keys(self) -> list[str]:
        """The current key first, then older ones; the demo's key is kept under var/."""
        current = self.secret_key.get_secret_value() or _demo_secret_key(self.var_dir)
        return [current, *(key.get_secret_value() for key in self.previous_secret_keys)]


def _demo_secret_key(var_dir: Path) -> str:
    path = var_dir / "secret_key"
    if path.exists():
        return path.read_text().strip()
    var_dir.mkdir(parents=True, exist_ok=True)
    key = secrets.token_urlsafe(48)
    # O_EXCL: when the API and the worker start together, one of them writes the key.
    try:
        with path.open("x") as handle:
            handle.write(key)
        path.chmod(0o600)
    except FileExistsError:
        return path.read_text().strip()
    return key


def load_settings(**overrides: Any) -> Settings:
    """Build the settings, turning validation errors into one readable message."""
    try:
        return Settings(**overrides)
    except ValidationError as exc:
        raise SettingsError(_describe(exc)) from None


def _describe(exc: ValidationError) -> str:
    lines = ["invalid configuration:"]
    for error in exc.errors(include_url=False, include_input=False):
        location = [str(part) for part in error["loc"]]
        message = str(error["msg"]).removeprefix("Value error, ")
        if location:
            variable = ENV_PREFIX + location[0].upper()
            lines.append(f"  {variable}: {message}")
        else:
            lines.append(f"  {message}")
    return "\n".join(lines)
