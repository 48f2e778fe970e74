"""Hook implementations of order → lead."""

from __future__ import annotations

import uuid
from importlib.metadata import PackageNotFoundError, version
from typing import Any

from junction.connections.credentials import NeedsReauth
from junction.plugins import hookimpl
from junction.plugins.interfaces import (
    EventContext,
    Integration,
    PermanentError,
    PluginInfo,
    PluginServices,
    Preview,
)
from junction_amocrm.connection import open_client
from junction_amocrm.errors import AmoUnauthorized
from junction_order_to_lead import lookups
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
        result, _ = await self._run(event, dry_run=False)
        return result

    async def preview(self, event: EventContext) -> Preview | None:
        try:
            _, calls = await self._run(event, dry_run=True)
        except _Stopped as stopped:
            return Preview(requests=stopped.calls, problem=str(stopped.reason))
        return Preview(requests=calls)

    async def clear_cache(self, tenant_id: uuid.UUID, services: PluginServices) -> int:
        return await lookups.clear_contacts(services.redis, tenant_id)

    async def _run(
        self, event: EventContext, *, dry_run: bool
    ) -> tuple[dict[str, Any], list[dict[str, Any]]]:
        config = event.config
        assert isinstance(config, OrderToLeadConfig)
        assert event.services is not None
        order = read_order(event, config)
        credentials = await event.services.connection("amocrm", config.connection_id)
        client = await open_client(
            credentials, event.services.redis, log=event.log, dry_run=dry_run
        )
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
                dry_run=dry_run,
            )
            try:
                return await run.execute(), client.calls
            except AmoUnauthorized as exc:
                # Refused even after a refresh: a person must connect the account again.
                raise NeedsReauth(str(exc), credentials.connection_id) from None
            except PermanentError as exc:
                if dry_run:
                    raise _Stopped(exc, client.calls) from None
                raise


class _Stopped(Exception):
    """A preview stopped where processing would: the reason and the calls until then."""

    def __init__(self, reason: PermanentError, calls: list[dict[str, Any]]) -> None:
        super().__init__(str(reason))
        self.reason = reason
        self.calls = calls


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
