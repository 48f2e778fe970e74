"""Order → lead against the amoCRM sandbox over HTTP: a workspace connected to a fresh
sandbox account, with the plugin installed."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from junction.connections.models import Connection
from junction.events.models import Event
from junction.intake.models import InboundEndpoint
from junction.plugins.models import PluginInstallation
from junction.plugins.registry import build_registry
from junction.runtime import Runtime, open_runtime
from junction.settings import Settings
from junction.tenancy.models import Role
from tests.factories import InboundEndpointFactory, PluginInstallationFactory
from tests.support.accounts import api_with_key
from tests.support.amocrm_sandbox import amocrm_environment, connect

PARTNER = "700100"


@dataclass
class Shop:
    """A tenant's installation of order → lead on a sandbox account, and its endpoints."""

    runtime: Runtime
    sandbox: httpx.Client
    account_id: int
    account: dict[str, Any]
    installation: PluginInstallation
    connection: Connection

    def field(self, entity: str, name: str) -> int:
        field_id: int = next(f["id"] for f in self.account[f"{entity}_fields"] if f["name"] == name)
        return field_id

    def state(self) -> dict[str, Any]:
        found: dict[str, Any] = self.sandbox.get(f"/_sandbox/accounts/{self.account_id}").json()
        return found

    def endpoint(self, source_format: str) -> InboundEndpoint:
        made: InboundEndpoint = InboundEndpointFactory(
            installation=self.installation, source_format=source_format
        )
        return made

    def add_partner(self, partner_id: str = PARTNER, name: str = "Partner") -> int:
        contact = self.sandbox.post(
            f"/_sandbox/accounts/{self.account_id}/contacts",
            json={
                "name": name,
                "custom_fields_values": [
                    {
                        "field_id": self.field("contact", "Partner ID"),
                        "values": [{"value": partner_id}],
                    }
                ],
            },
        ).json()
        contact_id: int = contact["id"]
        return contact_id


def base_config(account: dict[str, Any]) -> dict[str, Any]:
    def field(entity: str, name: str) -> int:
        found: int = next(f["id"] for f in account[f"{entity}_fields"] if f["name"] == name)
        return found

    pipeline = account["pipelines"][0]
    return {
        "pipeline_id": pipeline["id"],
        "status_id": pipeline["_embedded"]["statuses"][0]["id"],
        "lead_name": "Order {{ order.number }} for {{ order.customer.first_name }}",
        "tags": ["shop"],
        "partner": {"contact_field": "contact.cf.partner_id"},
        "amo_fields": {
            "contact.cf.partner_id": field("contact", "Partner ID"),
            "lead.cf.payment_address": field("lead", "Payment address"),
            "lead.cf.order_total": field("lead", "Order total"),
            "lead.cf.order_date": field("lead", "Order date"),
            "lead.cf.order_id": field("lead", "Order ID"),
        },
        "mappings": {
            "billing.address_1": "lead.cf.payment_address",
            "total": "lead.cf.order_total",
            "created_at": "lead.cf.order_date",
        },
        "order_marker_field": "lead.cf.order_id",
    }


@pytest.fixture
async def shop(
    monkeypatch: pytest.MonkeyPatch,
    settings: Settings,
    sessionmaker: async_sessionmaker[AsyncSession],
    session: AsyncSession,
    redis_url: str,
    sandbox: httpx.Client,
    sandbox_url: str,
    account_id: int,
) -> AsyncIterator[Shop]:
    for name, value in amocrm_environment(sandbox, sandbox_url).items():
        monkeypatch.setenv(name, value)
    account = sandbox.get(f"/_sandbox/accounts/{account_id}").json()
    installation: PluginInstallation = PluginInstallationFactory(
        plugin="order_to_lead", config=base_config(account)
    )
    await session.commit()
    connection = await connect(sessionmaker, sandbox, account_id, tenant_id=installation.tenant_id)
    runtime = await open_runtime(
        settings, registry=build_registry(), sessionmaker=sessionmaker, redis_url=redis_url
    )
    try:
        yield Shop(runtime, sandbox, account_id, account, installation, connection)
    finally:
        await runtime.close()


@pytest.fixture
async def shop_api(
    shop: Shop,
    settings: Settings,
    sessionmaker: async_sessionmaker[AsyncSession],
    session: AsyncSession,
) -> AsyncIterator[httpx.AsyncClient]:
    """Junction's API as the shop's workspace admin (an API key); built after the shop
    fixture pointed the amoCRM provider at the sandbox."""
    tenant = shop.installation.tenant
    async with api_with_key(settings, sessionmaker, session, tenant, Role.admin) as client:
        yield client


def event_for(endpoint: InboundEndpoint, payload: Any, key: str) -> Event:
    from tests.factories import EventFactory

    made: Event = EventFactory(endpoint=endpoint, payload=payload, idempotency_key=key)
    return made
