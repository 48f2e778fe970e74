"""The preview API: the exact amoCRM requests of a sample order, with nothing written."""

from __future__ import annotations

import json
from pathlib import Path

import httpx

from tests.support.order_to_lead_shop import PARTNER, Shop

ORDER = (
    Path(__file__).parents[2] / "shops/tests/real-payloads/opencart/arastta_getOrder_order18.json"
)


async def test_a_preview_shows_the_requests_and_writes_nothing(
    shop: Shop, shop_api: httpx.AsyncClient
) -> None:
    contact_id = shop.add_partner()
    order = json.loads(ORDER.read_text())
    order["customer_id"] = PARTNER
    answer = await shop_api.post(
        f"/api/installations/{shop.installation.id}/preview",
        json={"payload": order, "source_format": "opencart"},
    )
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert body["problem"] is None
    writes = [call for call in body["requests"] if not call["sent"]]
    assert [(call["method"], call["path"]) for call in writes] == [
        ("POST", "/api/v4/leads"),
        ("POST", "/api/v4/leads/notes"),
        ("POST", f"/api/v4/catalogs/{shop.account['catalogs'][0]['id']}/elements"),
        ("POST", "/api/v4/leads/link"),
    ]
    [lead] = writes[0]["json"]
    assert lead["name"] == "Order 18 for Ali"
    assert lead["_embedded"]["contacts"] == [{"id": contact_id, "is_main": True}]
    assert writes[3]["json"][0]["metadata"]["quantity"] == 1.0
    assert writes[3]["json"][0]["entity_id"] == -1
    state = shop.state()
    assert state["leads"] == []
    assert state["notes"] == []
    assert state["elements"] == []


async def test_a_preview_says_where_processing_would_stop(
    shop: Shop, shop_api: httpx.AsyncClient
) -> None:
    order = json.loads(ORDER.read_text())
    answer = await shop_api.post(
        f"/api/installations/{shop.installation.id}/preview",
        json={"payload": order, "source_format": "opencart"},
    )
    assert answer.status_code == 200, answer.text
    assert answer.json()["problem"] == (
        "order 18: no contact holds partner id '1' in contact.cf.partner_id; "
        "add the partner's contact and replay the order"
    )
    unknown = await shop_api.post(
        f"/api/installations/{shop.installation.id}/preview",
        json={"payload": order, "source_format": "nope"},
    )
    assert unknown.status_code == 422
    assert unknown.json()["error"]["field"] == "source_format"


async def test_the_contact_cache_is_cleared_per_tenant(
    shop: Shop, shop_api: httpx.AsyncClient
) -> None:
    from junction_order_to_lead import lookups

    redis = shop.runtime.queue.redis
    tenant = shop.installation.tenant_id
    await redis.set(lookups.contact_key(tenant, 1, "a"), 10)
    await redis.set(lookups.contact_key(tenant, 1, "b"), 11)
    answer = await shop_api.post(f"/api/installations/{shop.installation.id}/clear-cache")
    assert answer.status_code == 200, answer.text
    assert answer.json() == {"cleared": 2}
    assert await redis.get(lookups.contact_key(tenant, 1, "a")) is None


async def test_saving_a_config_checks_it_against_the_account(
    shop: Shop, shop_api: httpx.AsyncClient
) -> None:
    config = dict(shop.installation.config)
    gone = {**config, "amo_fields": {**config["amo_fields"], "lead.cf.old": 123}}
    refused = await shop_api.put(
        f"/api/installations/{shop.installation.id}/config", json={"config": gone}
    )
    assert refused.status_code == 422
    assert refused.json()["error"]["message"] == (
        "amo_fields.lead.cf.old: the account has no lead field 123"
    )
    bad_status = await shop_api.put(
        f"/api/installations/{shop.installation.id}/config",
        json={"config": {**config, "status_id": 42}},
    )
    assert bad_status.status_code == 422
    assert "status_id: pipeline 'Orders' has no status 42" in bad_status.json()["error"]["message"]
    broken = await shop_api.put(
        f"/api/installations/{shop.installation.id}/config",
        json={"config": {**config, "lead_name": "{% if %}"}},
    )
    assert broken.status_code == 422
    assert "lead_name" in broken.json()["error"]["message"]
    assert "does not compile" in broken.json()["error"]["message"]

    renamed = await shop_api.put(
        f"/api/installations/{shop.installation.id}/config",
        json={"config": {**config, "tags": ["renamed"]}},
    )
    assert renamed.status_code == 200, renamed.text
    assert renamed.json()["config"]["tags"] == ["renamed"]
