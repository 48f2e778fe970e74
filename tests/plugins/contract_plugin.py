"""A test plugin that implements every hook of the contract, for the meta-test."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pydantic import BaseModel

from junction.plugins import hookimpl
from junction.plugins.interfaces import (
    ConnectionProvider,
    CredentialsRejected,
    Delivery,
    EventContext,
    Integration,
    PluginInfo,
    ProbeResult,
    RefreshedCredentials,
    Sandbox,
    Source,
)


class ContractConfig(BaseModel):
    prefix: str = "seen"


class ContractSource(Source):
    name = "contract-source"
    title = "Contract source"

    def verify(self, delivery: Delivery, signing_secret: str) -> bool:
        return delivery.headers.get("x-contract") == signing_secret

    def idempotency_key(self, delivery: Delivery) -> str | None:
        payload = delivery.payload
        return str(payload["id"]) if isinstance(payload, dict) and "id" in payload else None


class ContractProvider(ConnectionProvider):
    name = "contract-provider"
    title = "Contract provider"

    def renewable(self, secrets: Mapping[str, Any]) -> bool:
        return True

    async def probe(self, secrets: Mapping[str, Any], details: Mapping[str, Any]) -> ProbeResult:
        return ProbeResult(ok=secrets.get("token") == "good", detail="checked")

    async def refresh(
        self, secrets: Mapping[str, Any], details: Mapping[str, Any]
    ) -> RefreshedCredentials:
        if secrets.get("token") == "revoked":
            raise CredentialsRejected("revoked")
        if secrets.get("token") == "unreachable":
            raise ConnectionError("the other side is down")
        return RefreshedCredentials(secrets={"token": "good"}, expires_at=None)


class ContractIntegration(Integration):
    async def process_event(self, event: EventContext) -> dict[str, Any] | None:
        assert isinstance(event.config, ContractConfig)
        event.log.info("contract processed", attempt=event.attempt)
        return {"value": f"{event.config.prefix}:{event.payload['id']}"}


@hookimpl
def junction_plugin() -> PluginInfo:
    return PluginInfo(
        name="contract", title="Contract", version="1.2.3", config_model=ContractConfig
    )


@hookimpl
def junction_sources() -> list[Source]:
    return [ContractSource()]


@hookimpl
def junction_connection_providers() -> list[ConnectionProvider]:
    return [ContractProvider()]


@hookimpl
def junction_integration() -> Integration:
    return ContractIntegration()


@hookimpl
def junction_sandboxes() -> list[Sandbox]:
    return [
        Sandbox(name="contract-sandbox", title="Contract sandbox", create_app=lambda c: c.base_url)
    ]
