"""One order becoming a lead: find the contact, create the lead, add the note, link the
products. Each step is checkpointed on the event the moment it is done, so a retry or a
replay continues where the last attempt stopped and never does a step twice."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from redis.asyncio import Redis

from junction.plugins.interfaces import AttemptLog, Checkpoint, PermanentError
from junction_amocrm.client import AmoClient
from junction_amocrm.errors import AmoError, AmoValidationError
from junction_order_to_lead import lookups
from junction_order_to_lead.config import OrderToLeadConfig
from junction_order_to_lead.fields import FieldValueError, field_values
from junction_order_to_lead.lookups import AccountFields
from junction_order_to_lead.notes import default_note
from junction_order_to_lead.templates import TemplateProblem, render
from junction_shops.order import Order

MAX_LEAD_NAME = 255


@dataclass
class OrderRun:
    config: OrderToLeadConfig
    order: Order
    client: AmoClient
    redis: Redis
    tenant_id: uuid.UUID
    connection_id: uuid.UUID
    checkpoint: Checkpoint
    log: AttemptLog
    # A preview: writes are only described, so their placeholder ids are never remembered.
    dry_run: bool = False

    def problem(self, text: str) -> PermanentError:
        return PermanentError(f"order {self.order.id}: {text}")

    def field_id(self, machine_name: str) -> int:
        return self.config.field_id(machine_name)

    def context(self) -> dict[str, Any]:
        return {"order": self.order.model_dump(mode="json"), "raw": self.order.raw}

    async def fields(self) -> AccountFields:
        fields = await lookups.account_fields(self.redis, self.connection_id, self.client)
        missing = [
            name
            for name, field_id in self.config.field_ids.items()
            if field_id not in fields.of(name)
        ]
        if missing:
            # Perhaps only what is remembered is stale: look once more before failing.
            await lookups.forget_account(self.redis, self.connection_id)
            fields = await lookups.account_fields(self.redis, self.connection_id, self.client)
            missing = [n for n, i in self.config.field_ids.items() if i not in fields.of(n)]
        if missing:
            described = ", ".join(f"{name} (field {self.field_id(name)})" for name in missing)
            raise self.problem(f"the amoCRM account has no field {described}; fix the settings")
        return fields

    def mapped_values(self, fields: AccountFields, entity: str) -> list[tuple[str, dict[str, Any]]]:
        """(what it maps, custom field value) for each mapping onto `entity` fields."""
        values = []
        for order_field, target in self.config.mappings.items():
            if not target.startswith(f"{entity}."):
                continue
            field = fields.of(target)[self.field_id(target)]
            value = self.order.value(order_field)
            try:
                converted = field_values(field, value)
            except FieldValueError as exc:
                raise self.problem(
                    f"{order_field} → {target} ({field.get('name')}, {field.get('type')}): {exc}"
                ) from None
            if converted is not None:
                values.append(
                    (f"{order_field} → {target}", {"field_id": field["id"], "values": converted})
                )
        return values

    def refused(self, step: str, exc: AmoValidationError, labels: list[str]) -> PermanentError:
        """amoCRM's refusal, with the mapping its path points at named."""
        named = []
        for item in exc.problems:
            for error in item.get("errors", []):
                path = str(error.get("path", ""))
                parts = path.split(".")
                label = path
                if len(parts) > 1 and parts[0] == "custom_fields_values" and parts[1].isdigit():
                    index = int(parts[1])
                    label = labels[index] if index < len(labels) else path
                named.append(f"{label}: {error.get('code')} ({error.get('detail')})")
        return self.problem(f"amoCRM refused the {step}: " + "; ".join(named))

    # ---- the partner's contact -----------------------------------------------------

    async def contact(self, fields: AccountFields) -> int | None:
        saved = self.checkpoint.get("contact_id")
        if saved is not None or self.checkpoint.get("without_contact"):
            return int(saved) if saved is not None else None
        lookup = self.config.partner
        partner = self.order.value(lookup.order_field)
        partner_id = str(partner).strip() if partner not in (None, "", False) else ""
        field_id = self.field_id(lookup.contact_field)
        if not partner_id:
            return await self.no_contact(
                f"the order has no partner id ({lookup.order_field})", fields
            )
        key = lookups.contact_key(self.tenant_id, field_id, partner_id)
        cached = await self.redis.get(key)
        if cached is not None:
            contact_id = int(cached)
            self.log.info("partner's contact remembered", contact_id=contact_id)
        else:
            found = await self.client.find_contacts(field_id, partner_id)
            if len(found) > 1:
                ids = ", ".join(str(contact["id"]) for contact in found)
                raise self.problem(
                    f"{len(found)} contacts hold partner id {partner_id!r} in "
                    f"{lookup.contact_field} (contacts {ids}); keep one and replay the order"
                )
            if not found:
                return await self.no_contact(
                    f"no contact holds partner id {partner_id!r} in {lookup.contact_field}",
                    fields,
                    partner_id,
                )
            contact_id = int(found[0]["id"])
            self.log.info("partner's contact found", contact_id=contact_id)
            if self.config.contact_cache_seconds and not self.dry_run:
                await self.redis.set(key, contact_id, ex=self.config.contact_cache_seconds)
        # Found again cheaply if lost: written with the lead's checkpoint, not alone.
        self.checkpoint.remember(contact_id=contact_id)
        return contact_id

    async def no_contact(
        self, reason: str, fields: AccountFields, partner_id: str = ""
    ) -> int | None:
        when = self.config.partner.when_missing
        if when == "fail" or (when == "create_contact" and not partner_id):
            raise self.problem(f"{reason}; add the partner's contact and replay the order")
        if when == "no_contact":
            self.log.warning(f"{reason}: the lead is created without a contact")
            await self.checkpoint.save(without_contact=True)
            return None
        customer = self.order.customer
        labelled = [
            (
                "partner id",
                {
                    "field_id": self.field_id(self.config.partner.contact_field),
                    "values": [{"value": partner_id}],
                },
            ),
            *self.mapped_values(fields, "contact"),
        ]
        body = {
            "name": customer.name or f"Partner {partner_id}",
            "first_name": customer.first_name,
            "last_name": customer.last_name,
            "custom_fields_values": [value for _, value in labelled],
        }
        try:
            [created] = await self.client.create_contacts([body])
        except AmoValidationError as exc:
            raise self.refused("contact", exc, [label for label, _ in labelled]) from None
        contact_id = int(created["id"])
        self.log.info(f"{reason}: the contact was created", contact_id=contact_id)
        await self.checkpoint.save(contact_id=contact_id, contact_created=True)
        return contact_id

    def contact_update(
        self, fields: AccountFields, contact_id: int | None
    ) -> tuple[dict[str, Any], list[str]] | None:
        """The order's values for the partner's existing contact, if any are mapped."""
        if (
            contact_id is None
            or self.checkpoint.get("contact_created")
            or self.checkpoint.get("contact_updated")
        ):
            return None
        labelled = self.mapped_values(fields, "contact")
        if not labelled:
            return None
        body = {"id": contact_id, "custom_fields_values": [value for _, value in labelled]}
        return body, [label for label, _ in labelled]

    # ---- the lead -------------------------------------------------------------------

    def lead_body(
        self, fields: AccountFields, contact_id: int | None
    ) -> tuple[dict[str, Any], list[str]]:
        config = self.config
        try:
            name = render(config.lead_name, self.context(), limit=MAX_LEAD_NAME).strip()
        except TemplateProblem as exc:
            raise self.problem(f"lead_name: {exc}") from None
        labelled = self.mapped_values(fields, "lead")
        if config.order_marker_field:
            labelled.append(
                (
                    f"order marker → {config.order_marker_field}",
                    {
                        "field_id": self.field_id(config.order_marker_field),
                        "values": [{"value": f"order:{self.order.id}"}],
                    },
                )
            )
        body: dict[str, Any] = {
            "name": name or f"Order {self.order.id}",
            "pipeline_id": config.pipeline_id,
            "status_id": config.status_id,
            "custom_fields_values": [value for _, value in labelled],
            "_embedded": {"tags": [{"name": tag} for tag in config.tags]},
        }
        if config.price_from_total:
            body["price"] = int(self.order.total.quantize(Decimal(1), ROUND_HALF_UP))
        if config.responsible_user_id:
            body["responsible_user_id"] = config.responsible_user_id
        if contact_id is not None:
            body["_embedded"]["contacts"] = [{"id": contact_id, "is_main": True}]
        return body, [label for label, _ in labelled]

    async def earlier_lead(self) -> int | None:
        """The lead an earlier attempt created: from the checkpoint or, when that attempt
        may have died between amoCRM's answer and the checkpoint, by the order marker."""
        saved = self.checkpoint.get("lead_id")
        if saved is not None:
            return int(saved)
        marker = self.config.order_marker_field
        if marker and self.checkpoint.get("creating_lead"):
            earlier = await self.client.find_leads(self.field_id(marker), f"order:{self.order.id}")
            if earlier:
                lead_id = int(earlier[0]["id"])
                self.log.info("the lead an earlier attempt created was found", lead_id=lead_id)
                await self.checkpoint.save(lead_id=lead_id)
                return lead_id
        return None

    # ---- the note and the products ------------------------------------------------------

    def note_text(self) -> str:
        settings = self.config.note
        if settings.template is None:
            return default_note(self.order, settings.language)
        try:
            return render(settings.template, self.context())
        except TemplateProblem as exc:
            raise self.problem(f"note.template: {exc}") from None

    def note_body(self, lead_id: int) -> dict[str, Any] | None:
        if not self.config.note.enabled or self.checkpoint.get("note_id") is not None:
            return None
        return {"entity_id": lead_id, "note_type": "common", "params": {"text": self.note_text()}}

    async def element(self, catalog: lookups.ProductsCatalog, index: int) -> int:
        item = self.order.items[index]
        by_sku = self.config.products.match_by == "sku" and bool(item.sku)
        match = item.sku if by_sku else item.name
        key = lookups.element_key(self.connection_id, catalog.id, match)
        cached = await self.redis.get(key)
        if cached is not None:
            return int(cached)
        found = None
        for element in await self.client.find_elements(catalog.id, match):
            if by_sku:
                skus = {
                    str(value.get("value", "")).strip()
                    for field in element.get("custom_fields_values") or []
                    if field.get("field_id") == catalog.sku_field_id
                    for value in field.get("values", [])
                }
                if match in skus:
                    found = element
                    break
            elif str(element.get("name", "")).strip() == match:
                found = element
                break
        if found is None:
            if not self.config.products.create_missing:
                raise self.problem(
                    f"product {match!r} is not in the amoCRM catalog; add it, or allow "
                    "products.create_missing"
                )
            values: list[dict[str, Any]] = []
            if catalog.sku_field_id and item.sku:
                values.append({"field_id": catalog.sku_field_id, "values": [{"value": item.sku}]})
            if catalog.price_field_id:
                price = format(item.price.quantize(Decimal("0.01")), "f")
                values.append({"field_id": catalog.price_field_id, "values": [{"value": price}]})
            [found] = await self.client.create_elements(
                catalog.id, [{"name": item.name, "custom_fields_values": values}]
            )
            self.log.info("catalog element created", element_id=found["id"], name=item.name)
        element_id = int(found["id"])
        if not self.dry_run:
            await self.redis.set(key, element_id, ex=lookups.ELEMENT_SECONDS)
        return element_id

    async def product_links(self, lead_id: int) -> list[dict[str, Any]]:
        """The lead's links to its products, finding or creating the catalog elements."""
        if (
            not self.config.products.enabled
            or not self.order.items
            or self.checkpoint.get("products_linked")
        ):
            return []
        catalog = await lookups.products_catalog(self.redis, self.connection_id, self.client)
        if catalog is None:
            raise self.problem(
                "the amoCRM account has no products catalog; switch products on in amoCRM "
                "or turn products off in the settings"
            )
        try:
            return [
                {
                    "entity_id": lead_id,
                    "to_entity_id": await self.element(catalog, index),
                    "to_entity_type": "catalog_elements",
                    "metadata": {
                        "catalog_id": catalog.id,
                        "quantity": float(item.quantity),
                        **({"price_id": catalog.price_field_id} if catalog.price_field_id else {}),
                    },
                }
                for index, item in enumerate(self.order.items)
            ]
        except AmoError as exc:
            raise self.catalog_problem(catalog.id, exc) from None

    def catalog_problem(self, catalog_id: int, exc: AmoError) -> Exception:
        if exc.status in (400, 404):
            return self.problem(
                f"the products catalog {catalog_id} could not be used ({exc}); "
                "was it deleted? replay the order once the catalog is back"
            )
        return exc

    def result(self) -> dict[str, Any]:
        return {
            "order_id": self.order.id,
            "lead_id": self.checkpoint.get("lead_id"),
            "contact_id": self.checkpoint.get("contact_id"),
            "note_id": self.checkpoint.get("note_id"),
            "products_linked": len(self.order.items)
            if self.checkpoint.get("products_linked")
            else 0,
        }
