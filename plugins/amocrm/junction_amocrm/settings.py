"""The amoCRM plugin's settings (`JUNCTION_AMOCRM_*`): the platform's own integration."""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict


class AmoSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="JUNCTION_AMOCRM_", extra="ignore", frozen=True)

    # amoCRM's consent page (Kommo: https://www.kommo.com/oauth).
    consent_url: str = "https://www.amocrm.ru/oauth"
    client_id: str = ""
    client_secret: SecretStr = SecretStr("")
    redirect_uri: str = ""
    # Base URLs besides amoCRM's own hosts that may receive a client secret: the local
    # sandbox, in the demo and tests only.
    extra_hosts: Annotated[list[str], NoDecode] = Field(default_factory=list)
    rate_limit_per_second: int = Field(default=7, ge=1, le=7)
    # Refresh this long before the access token expires.
    refresh_margin_seconds: float = Field(default=300.0, ge=0)

    @field_validator("extra_hosts", mode="before")
    @classmethod
    def _split(cls, value: Any) -> Any:
        if isinstance(value, str):
            return [part.strip().rstrip("/") for part in value.split(",") if part.strip()]
        return value
