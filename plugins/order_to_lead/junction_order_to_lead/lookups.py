"""What order → lead looks up in amoCRM and remembers in Redis.

Field definitions and the products catalog change rarely: kept ten minutes. Contacts
found by partner id: kept as long as the installation says (a day by default), and
cleared per tenant on demand. Catalog elements by SKU or name: a day.
"""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass
from typing import Any

from redis.asyncio import Redis

from junction_amocrm.client import AmoClient

PREFIX = "order_to_lead"
ACCOUNT_SECONDS = 600
ELEMENT_SECONDS = 86_400


@dataclass(frozen=True)
class AccountFields:
    lead: dict[int, dict[str, Any]]
    contact: dict[int, dict[str, Any]]

    def of(self, machine_name: str) -> dict[int, dict[str, Any]]:
        return self.lead if machine_name.startswith("lead.") else self.contact


@dataclass(frozen=True)
class ProductsCatalog:
    id: int
    sku_field_id: int | None
    price_field_id: int | None


async def _remembered(redis: Redis, key: str) -> Any:
    cached = await redis.get(key)
    return json.loads(cached) if cached is not None else None


async def account_fields(
    redis: Redis, connection_id: uuid.UUID, client: AmoClient
) -> AccountFields:
    key = f"{PREFIX}:{connection_id}:fields"
    cached = await _remembered(redis, key)
    if cached is None:
        cached = {"lead": await client.lead_fields(), "contact": await client.contact_fields()}
        await redis.set(key, json.dumps(cached), ex=ACCOUNT_SECONDS)
    return AccountFields(
        lead={field["id"]: field for field in cached["lead"]},
        contact={field["id"]: field for field in cached["contact"]},
    )


async def products_catalog(
    redis: Redis, connection_id: uuid.UUID, client: AmoClient
) -> ProductsCatalog | None:
    key = f"{PREFIX}:{connection_id}:catalog"
    cached = await _remembered(redis, key)
    if cached is None:
        catalog = next((c for c in await client.catalogs() if c.get("type") == "products"), None)
        cached = {}
        if catalog is not None:
            fields = await client.catalog_fields(catalog["id"])
            codes = {field.get("code"): field["id"] for field in fields}
            cached = {"id": catalog["id"], "sku": codes.get("SKU"), "price": codes.get("PRICE")}
        await redis.set(key, json.dumps(cached), ex=ACCOUNT_SECONDS)
    if not cached:
        return None
    return ProductsCatalog(cached["id"], cached["sku"], cached["price"])


async def forget_account(redis: Redis, connection_id: uuid.UUID) -> None:
    """Drop what is remembered of the account (its fields or catalog turned out stale)."""
    await redis.delete(f"{PREFIX}:{connection_id}:fields", f"{PREFIX}:{connection_id}:catalog")


def contact_key(tenant_id: uuid.UUID, field_id: int, partner_id: str) -> str:
    return f"{PREFIX}:{tenant_id}:contact:{field_id}:{partner_id}"


def element_key(connection_id: uuid.UUID, catalog_id: int, match: str) -> str:
    return f"{PREFIX}:{connection_id}:element:{catalog_id}:{match}"


async def clear_contacts(redis: Redis, tenant_id: uuid.UUID) -> int:
    """Forget every contact found for the tenant; returns how many were remembered."""
    cleared = 0
    async for key in redis.scan_iter(match=f"{PREFIX}:{tenant_id}:contact:*", count=500):
        cleared += int(await redis.delete(key))
    return cleared
