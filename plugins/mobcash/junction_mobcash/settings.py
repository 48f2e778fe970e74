"""The MobCash plugin's settings (`JUNCTION_MOBCASH_*`)."""

from __future__ import annotations

from typing import Annotated, Any
from urllib.parse import urlsplit

from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict


class MobCashSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="JUNCTION_MOBCASH_", extra="ignore", frozen=True)

    # Base URLs that may receive credentials over plain http: the local sandbox, in the
    # demo and tests only. Any other base URL must be https.
    extra_hosts: Annotated[list[str], NoDecode] = Field(default_factory=list)
    timeout_seconds: float = Field(default=20.0, gt=0, le=120)

    @field_validator("extra_hosts", mode="before")
    @classmethod
    def _split(cls, value: Any) -> Any:
        if isinstance(value, str):
            return [part.strip().rstrip("/") for part in value.split(",") if part.strip()]
        return value

    def check_base_url(self, url: str) -> str:
        """The base URL, if credentials may be sent there; ValueError says why not."""
        url = url.strip().rstrip("/")
        parts = urlsplit(url)
        if not parts.hostname:
            raise ValueError(f"{url!r} is not a URL")
        if parts.scheme == "https" or url in self.extra_hosts:
            return url
        raise ValueError("the MobCash base URL must start with https://")
