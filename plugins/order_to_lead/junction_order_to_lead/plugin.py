"""Hook implementations of order → lead."""

from __future__ import annotations

from importlib.metadata import PackageNotFoundError, version
from typing import Any

from junction.connections.credentials import NeedsReauth
from junction.plugins import hookimpl
from junction.plugins.interfaces import EventContext, Integration, PermanentError, PluginInfo
from junction_amocrm.connection import open_client
from junction_amocrm.errors import AmoUnauthorized
from junction_order_to_lead.config import OrderToLeadConfig
from junction_order_to_lead.run import OrderRun
from junction_shops.formats import shop_format
from junction_shops.order import Order, OrderFormatError

try:
    VERSION = version("junction-order-to-lead")
except PackageNotFoundError:  # pragma: no cover - running from an uninstalled tree
    VERSION = "0.0.0"


def read_order(event: EventContext, config: OrderToLeadConfig) -> Order:
    shop = shop_format(event.source_format)
    if shop is None:
        raise PermanentError(
            f"the endpoint's source format {event.source_format!r} is not a shop format"
        )
    try:
        return shop.read_order(event.payload, event.headers, config.order_paths)
    except OrderFormatError as exc:
        raise PermanentError(f"the delivery is not a {shop.title} order: {exc}") from None


class OrderToLead(Integration):
    async def process_event(self, event: EventContext) -> dict[str, Any] | None:
        config = event.config
        assert isinstance(config, OrderToLeadConfig)
        assert event.services is not None
        order = read_order(event, config)
        credentials = await event.services.connection("amocrm", config.connection_id)
        client = await open_client(credentials, event.services.redis, log=event.log)
        async with client:
            run = OrderRun(
                config=config,
                order=order,
                client=client,
                redis=event.services.redis,
                tenant_id=event.tenant_id,
                connection_id=credentials.connection_id,
                checkpoint=event.checkpoint,
                log=event.log,
            )
            try:
                return await run.execute()
            except AmoUnauthorized as exc:
                # Refused even after a refresh: a person must connect the account again.
                raise NeedsReauth(str(exc), credentials.connection_id) from None


@hookimpl
def junction_plugin() -> PluginInfo:
    return PluginInfo(
        name="order_to_lead",
        title="Order → lead",
        version=VERSION,
        description="Each shop order becomes an amoCRM lead on the partner's contact, with "
        "its fields mapped, a note with the whole order, and its products linked.",
        config_model=OrderToLeadConfig,
    )


@hookimpl
def junction_integration() -> Integration:
    return OrderToLead()
