"""Hook implementations of order → lead."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import replace
from importlib.metadata import PackageNotFoundError, version
from typing import Any

from pydantic import BaseModel

from junction.connections.credentials import NeedsReauth
from junction.plugins import hookimpl
from junction.plugins.interfaces import (
    Choice,
    EventContext,
    EventOutcome,
    Integration,
    PermanentError,
    PluginInfo,
    PluginServices,
    Preview,
)
from junction_amocrm.connection import open_client
from junction_amocrm.errors import AmoUnauthorized
from junction_order_to_lead import lookups
from junction_order_to_lead.batch import process_orders
from junction_order_to_lead.checks import config_problems
from junction_order_to_lead.config import OrderToLeadConfig
from junction_order_to_lead.fields import FITS, ORDER_FIELDS, TEXT_TYPES
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
    # amoCRM's batch endpoints take up to 50 entities per request.
    max_batch_size = 50

    async def process_event(self, event: EventContext) -> dict[str, Any] | None:
        [outcome], _ = await self._run([event], dry_run=False)
        if isinstance(outcome, Exception):
            raise outcome
        return outcome

    async def process_batch(self, events: Sequence[EventContext]) -> Sequence[EventOutcome]:
        outcomes, _ = await self._run(list(events), dry_run=False)
        return outcomes

    async def preview(self, event: EventContext) -> Preview | None:
        [outcome], calls = await self._run([event], dry_run=True)
        if isinstance(outcome, PermanentError):
            return Preview(requests=calls, problem=str(outcome))
        if isinstance(outcome, Exception):
            raise outcome
        return Preview(requests=calls)

    async def check_config(
        self, config: BaseModel, tenant_id: uuid.UUID, services: PluginServices
    ) -> list[str]:
        assert isinstance(config, OrderToLeadConfig)
        credentials = await services.connection("amocrm", config.connection_id)
        client = await open_client(credentials, services.redis)
        async with client:
            # What the account holds now, not what was remembered of it.
            await lookups.forget_account(services.redis, credentials.connection_id)
            return await config_problems(config, client, services.redis, credentials.connection_id)

    async def config_choices(
        self, tenant_id: uuid.UUID, services: PluginServices
    ) -> dict[str, list[Choice]]:
        """Pipelines and their statuses, users, lead and contact fields (with their types)
        of the connected account, and the order fields with what each fits into."""
        credentials = await services.connection("amocrm", None)
        client = await open_client(credentials, services.redis)
        async with client:
            await lookups.forget_account(services.redis, credentials.connection_id)
            fields = await lookups.account_fields(services.redis, credentials.connection_id, client)
            pipelines = await client.pipelines()
            users = await client.users()

        def by_id(entity: str) -> list[Choice]:
            return [
                Choice(
                    value=f"{entity}.cf.{field_id}",
                    label=str(field.get("name")),
                    kind=str(field.get("type")),
                    group=entity,
                )
                for field_id, field in sorted(
                    getattr(fields, entity).items(), key=lambda item: str(item[1].get("name"))
                )
            ]

        order_fields = [
            Choice(value=name, label=name, kind=kind, fits=tuple(sorted(FITS[kind])))
            for name, kind in ORDER_FIELDS.items()
        ]
        every_field = by_id("lead") + by_id("contact")
        return {
            "pipeline_id": [Choice(value=p["id"], label=str(p.get("name"))) for p in pipelines],
            "status_id": [
                Choice(value=s["id"], label=str(s.get("name")), parent=p["id"])
                for p in pipelines
                for s in p.get("_embedded", {}).get("statuses", [])
            ],
            "responsible_user_id": [Choice(value=u["id"], label=str(u.get("name"))) for u in users],
            "partner.contact_field": by_id("contact"),
            "partner.order_field": order_fields,
            "order_marker_field": [c for c in by_id("lead") if c.kind in TEXT_TYPES],
            "mappings.key": order_fields,
            "mappings.value": every_field,
            "amo_fields.value": [
                replace(choice, value=int(str(choice.value).rsplit(".", 1)[1]))
                for choice in every_field
            ],
            "order_paths.key": order_fields,
        }

    async def clear_cache(self, tenant_id: uuid.UUID, services: PluginServices) -> int:
        return await lookups.clear_contacts(services.redis, tenant_id)

    async def _run(
        self, events: list[EventContext], *, dry_run: bool
    ) -> tuple[list[EventOutcome], list[dict[str, Any]]]:
        """The events of one installation (one config, one connection), as one batch."""
        first = events[0]
        config = first.config
        assert isinstance(config, OrderToLeadConfig)
        assert first.services is not None
        credentials = await first.services.connection("amocrm", config.connection_id)
        client = await open_client(
            credentials, first.services.redis, log=first.log, dry_run=dry_run
        )
        async with client:
            runs: list[OrderRun | Exception] = []
            for event in events:
                try:
                    order = read_order(event, config)
                except PermanentError as exc:
                    runs.append(exc)
                    continue
                runs.append(
                    OrderRun(
                        config=config,
                        order=order,
                        client=client,
                        redis=first.services.redis,
                        tenant_id=event.tenant_id,
                        connection_id=credentials.connection_id,
                        checkpoint=event.checkpoint,
                        log=event.log,
                        dry_run=dry_run,
                    )
                )
            try:
                started = next((run for run in runs if isinstance(run, OrderRun)), None)
                if started is None:
                    return [run for run in runs if isinstance(run, Exception)], client.calls
                fields = await started.fields()
                outcomes = await process_orders(runs, fields, first.services)
            except AmoUnauthorized as exc:
                # Refused even after a refresh: a person must connect the account again.
                raise NeedsReauth(str(exc), credentials.connection_id) from None
            return [
                NeedsReauth(str(outcome), credentials.connection_id)
                if isinstance(outcome, AmoUnauthorized)
                else outcome
                for outcome in outcomes
            ], client.calls


@hookimpl
def junction_plugin() -> PluginInfo:
    return PluginInfo(
        name="order_to_lead",
        title="Order → lead",
        version=VERSION,
        description="Each shop order becomes an amoCRM lead on the partner's contact, with "
        "its fields mapped, a note with the whole order, and its products linked.",
        config_model=OrderToLeadConfig,
        i18n={
            "ru": {
                "title": "Заказ → сделка",
                "description": "Каждый заказ магазина становится сделкой amoCRM на контакте "
                "партнёра: поля по соответствию, примечание со всем заказом и заказанные "
                "товары.",
            }
        },
    )


@hookimpl
def junction_integration() -> Integration:
    return OrderToLead()
