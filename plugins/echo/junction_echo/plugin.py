"""Hook implementations of the echo plugin."""

from __future__ import annotations

import asyncio
import hashlib
import hmac
from importlib.metadata import PackageNotFoundError, version
from typing import Any, ClassVar

from pydantic import BaseModel, ConfigDict, Field

from junction.plugins import hookimpl
from junction.plugins.interfaces import (
    Delivery,
    EventContext,
    Integration,
    PermanentError,
    PluginInfo,
    Source,
    Translations,
)

SIGNATURE_HEADER = "x-echo-signature"
IDEMPOTENCY_HEADER = "idempotency-key"
# A payload may ask the echo plugin to fail, to see retries and dead letters at work,
# or to stall its first attempt, to see another worker take over a stuck event.
FAIL_FIELD = "echo_fail"
STALL_FIELD = "echo_stall"
MAX_STALL_SECONDS = 300.0

try:
    VERSION = version("junction-echo")
except PackageNotFoundError:  # pragma: no cover - running from an uninstalled tree
    VERSION = "0.0.0"


class EchoConfig(BaseModel):
    model_config = ConfigDict(extra="forbid")

    label: str = Field(default="", max_length=200, description="Copied into each result.")


class EchoSource(Source):
    """Any JSON or form body. Signature: hex HMAC-SHA256 of the body in X-Echo-Signature."""

    name = "echo"
    title = "Echo (any JSON or form body)"
    i18n: ClassVar[Translations] = {"ru": {"title": "Эхо (любое тело JSON или формы)"}}

    def verify(self, delivery: Delivery, signing_secret: str) -> bool:
        given = delivery.headers.get(SIGNATURE_HEADER, "")
        expected = hmac.new(signing_secret.encode(), delivery.body, hashlib.sha256).hexdigest()
        return hmac.compare_digest(given.lower(), expected)

    def idempotency_key(self, delivery: Delivery) -> str | None:
        return delivery.headers.get(IDEMPOTENCY_HEADER) or None


class EchoIntegration(Integration):
    # A backlog is echoed fifty events at a time (each through `process_event`), which
    # exercises the batch path end to end.
    max_batch_size = 50

    async def process_event(self, event: EventContext) -> dict[str, Any] | None:
        config = event.config
        assert isinstance(config, EchoConfig)
        payload = event.payload
        stall = payload.get(STALL_FIELD) if isinstance(payload, dict) else None
        if isinstance(stall, (int, float)) and event.attempt == 1:
            event.log.info("stalling the first attempt", seconds=stall)
            await asyncio.sleep(min(float(stall), MAX_STALL_SECONDS))
        failure = payload.get(FAIL_FIELD) if isinstance(payload, dict) else None
        if failure == "permanent":
            event.log.error("asked to fail for good", field=FAIL_FIELD)
            raise PermanentError(f"the payload asked to fail ({FAIL_FIELD}=permanent)")
        if failure == "retry" or (isinstance(failure, int) and event.attempt <= failure):
            event.log.warning("asked to fail this attempt", attempt=event.attempt)
            raise RuntimeError(f"the payload asked to fail attempt {event.attempt}")
        event.log.info(
            "echoed the payload", keys=sorted(payload) if isinstance(payload, dict) else None
        )
        return {"echo": payload, "label": config.label, "attempt": event.attempt}


@hookimpl
def junction_plugin() -> PluginInfo:
    return PluginInfo(
        name="echo",
        title="Echo",
        version=VERSION,
        description="Records the payload of every event it receives.",
        i18n={"ru": {"title": "Эхо", "description": "Записывает тело каждого события."}},
        config_model=EchoConfig,
    )


@hookimpl
def junction_sources() -> list[Source]:
    return [EchoSource()]


@hookimpl
def junction_integration() -> Integration:
    return EchoIntegration()
