"""Orders from every shop format become leads in the amoCRM sandbox, over HTTP."""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import pytest
from sqlalchemy.ext.asyncio import AsyncSession

from junction.db.tenancy import cross_tenant
from junction.events.models import Event, EventStatus
from junction.events.processing import process_event
from junction.intake.parsing import parse_body
from tests.support.events import reload_event, reload_events
from tests.support.order_to_lead_shop import PARTNER, Shop, event_for

PAYLOADS = Path(__file__).parents[2] / "shops/tests/real-payloads"


def _woocommerce() -> tuple[Any, str, str]:
    order = json.loads(
        (PAYLOADS / "woocommerce/wc-rest-api-docs_wp-api-v3_create-order_response.json").read_text()
    )
    order["customer_id"] = PARTNER
    return order, "727", "969 Market"


def _shopify() -> tuple[Any, str, str]:
    sample = json.loads(
        (PAYLOADS / "shopify/hookdeck_shopify_2024-10_orders.create.json").read_text()
    )
    body = sample["body"]
    body["customer"]["admin_graphql_api_id"] = f"gid://shopify/Customer/{PARTNER}"
    return body, "820982911946154508", body["billing_address"]["address1"]


def _opencart() -> tuple[Any, str, str]:
    order = json.loads((PAYLOADS / "opencart/arastta_getOrder_order18.json").read_text())
    order["customer_id"] = PARTNER
    return order, "18", "Cumhuriyet Cd."


def _tilda() -> tuple[Any, str, str]:
    payment = {
        "orderid": "555001",
        "products": [
            {"name": "Чай улун", "quantity": 2, "amount": 1200, "price": 600, "sku": "T1"}
        ],
        "amount": "1200",
    }
    form = {"Name": "Ирина Петрова", "partner_id": PARTNER, "payment": json.dumps(payment)}
    return parse_body(urlencode(form).encode(), "application/x-www-form-urlencoded"), "555001", ""


def _generic() -> tuple[Any, str, str]:
    return (
        {
            "id": "G-77",
            "total": "150.00",
            "partner_id": PARTNER,
            "billing": {"address_1": "Lenina 1"},
            "items": [{"sku": "G1", "name": "Widget", "quantity": 3, "price": "50"}],
        },
        "G-77",
        "Lenina 1",
    )


FORMATS = {
    "woocommerce": _woocommerce,
    "shopify": _shopify,
    "opencart": _opencart,
    "tilda": _tilda,
    "generic-json": _generic,
}


async def _run(shop: Shop, session: AsyncSession, event: Event) -> Event:
    await session.commit()
    await process_event(shop.runtime, event.tenant_id, event.id)
    return await reload_event(session, event)


def _values(entity: dict[str, Any]) -> dict[int, list[Any]]:
    return {
        field["field_id"]: [value.get("value", value.get("enum_id")) for value in field["values"]]
        for field in entity.get("custom_fields_values") or []
    }


@pytest.mark.parametrize("source_format", sorted(FORMATS))
async def test_an_order_becomes_a_lead_on_the_partners_contact(
    shop: Shop, session: AsyncSession, source_format: str
) -> None:
    contact_id = shop.add_partner()
    payload, order_id, street = FORMATS[source_format]()
    event = event_for(shop.endpoint(source_format), payload, f"src:order:{order_id}")
    done = await _run(shop, session, event)
    assert done.status is EventStatus.done, done.last_error

    state = shop.state()
    [lead] = state["leads"]
    assert done.result is not None
    assert done.result["lead_id"] == lead["id"]
    pipeline = shop.account["pipelines"][0]
    assert lead["pipeline_id"] == pipeline["id"]
    assert lead["status_id"] == pipeline["_embedded"]["statuses"][0]["id"]
    assert [c["id"] for c in lead["_embedded"]["contacts"]] == [contact_id]
    assert [tag["name"] for tag in lead["_embedded"]["tags"]] == ["shop"]
    values = _values(lead)
    assert values[shop.field("lead", "Order ID")] == [f"order:{order_id}"]
    order_total = values[shop.field("lead", "Order total")][0]
    assert Decimal(str(order_total)) == Decimal(str(lead["price"])) or lead["price"] == round(
        float(order_total)
    )
    if street:
        assert values[shop.field("lead", "Payment address")] == [street]

    [note] = state["notes"]
    assert note["entity_id"] == lead["id"]
    assert order_id in note["params"]["text"] or "Заказ" in note["params"]["text"]

    links = [link for link in state["links"] if link["entity_id"] == lead["id"]]
    assert links, "the products were linked"
    elements = {element["id"]: element for element in state["elements"]}
    linked = {
        elements[link["to_entity_id"]]["name"]: link["metadata"]["quantity"] for link in links
    }
    assert all(quantity > 0 for quantity in linked.values())


async def _configure(shop: Shop, session: AsyncSession, **changes: Any) -> None:
    from junction.plugins.models import PluginInstallation

    with cross_tenant(session, "test: change the installation"):
        installation = await session.get(PluginInstallation, shop.installation.id)
        assert installation is not None
        installation.config = {**installation.config, **changes}
    await session.commit()


async def test_fields_named_by_id_are_written_like_named_ones(
    shop: Shop, session: AsyncSession
) -> None:
    """The form saves fields by id (`lead.cf.<id>`), without `amo_fields`."""
    contact_id = shop.add_partner()
    await _configure(
        shop,
        session,
        amo_fields={},
        partner={"contact_field": f"contact.cf.{shop.field('contact', 'Partner ID')}"},
        mappings={"billing.address_1": f"lead.cf.{shop.field('lead', 'Payment address')}"},
        order_marker_field=f"lead.cf.{shop.field('lead', 'Order ID')}",
    )
    payload, order_id, street = _opencart()
    done = await _run(shop, session, event_for(shop.endpoint("opencart"), payload, "k-id"))
    assert done.status is EventStatus.done, done.last_error
    [lead] = shop.state()["leads"]
    assert [c["id"] for c in lead["_embedded"]["contacts"]] == [contact_id]
    values = _values(lead)
    assert values[shop.field("lead", "Payment address")] == [street]
    assert values[shop.field("lead", "Order ID")] == [f"order:{order_id}"]


async def test_a_missing_partner_fails_naming_the_order_and_the_partner(
    shop: Shop, session: AsyncSession
) -> None:
    payload, _, _ = _opencart()
    event = event_for(shop.endpoint("opencart"), payload, "src:order:18")
    failed = await _run(shop, session, event)
    assert failed.status is EventStatus.failed
    assert failed.last_error == (
        "order 18: no contact holds partner id '700100' in contact.cf.partner_id; "
        "add the partner's contact and replay the order"
    )
    assert shop.state()["leads"] == []


async def test_a_missing_partner_can_create_the_contact_instead(
    shop: Shop, session: AsyncSession
) -> None:
    await _configure(
        shop,
        session,
        partner={"contact_field": "contact.cf.partner_id", "when_missing": "create_contact"},
    )
    payload, _, _ = _opencart()
    event = event_for(shop.endpoint("opencart"), payload, "src:order:18")
    done = await _run(shop, session, event)
    assert done.status is EventStatus.done, done.last_error
    [contact] = shop.state()["contacts"]
    assert contact["name"] == "Ali Veli"
    assert _values(contact)[shop.field("contact", "Partner ID")] == [PARTNER]
    [lead] = shop.state()["leads"]
    assert lead["_embedded"]["contacts"][0]["id"] == contact["id"]


async def test_a_setting_amocrm_refuses_fails_naming_it(shop: Shop, session: AsyncSession) -> None:
    shop.add_partner()
    await _configure(shop, session, status_id=999_999)
    payload, _, _ = _opencart()
    failed = await _run(shop, session, event_for(shop.endpoint("opencart"), payload, "k1"))
    assert failed.status is EventStatus.failed
    assert failed.last_error is not None
    assert failed.last_error.startswith(
        "order 18: amoCRM refused the lead: status_id: NotSupportedChoice"
    )


async def test_a_value_a_field_cannot_take_fails_naming_the_mapping(
    shop: Shop, session: AsyncSession
) -> None:
    shop.add_partner()
    amo_fields = {**shop.installation.config["amo_fields"]}
    amo_fields["lead.cf.delivery"] = shop.field("lead", "Delivery")
    await _configure(
        shop,
        session,
        amo_fields=amo_fields,
        mappings={"shipping_method": "lead.cf.delivery"},
    )
    payload, _, _ = _opencart()
    failed = await _run(shop, session, event_for(shop.endpoint("opencart"), payload, "k2"))
    assert failed.status is EventStatus.failed
    assert failed.last_error == (
        "order 18: shipping_method → lead.cf.delivery (Delivery, select): "
        "'Flat Shipping Rate' is not one of its options (Courier, Pickup)"
    )


async def test_a_field_gone_from_the_account_fails_naming_it(
    shop: Shop, session: AsyncSession
) -> None:
    shop.add_partner()
    amo_fields = {**shop.installation.config["amo_fields"], "lead.cf.old": 123}
    await _configure(shop, session, amo_fields=amo_fields)
    payload, _, _ = _opencart()
    failed = await _run(shop, session, event_for(shop.endpoint("opencart"), payload, "k3"))
    assert failed.status is EventStatus.failed
    assert failed.last_error == (
        "order 18: the amoCRM account has no field lead.cf.old (field 123); fix the settings"
    )


async def test_a_deleted_catalog_fails_naming_it(shop: Shop, session: AsyncSession) -> None:
    shop.add_partner()
    payload, _, _ = _opencart()
    first = await _run(shop, session, event_for(shop.endpoint("opencart"), payload, "k4"))
    assert first.status is EventStatus.done, first.last_error
    [catalog] = shop.account["catalogs"]
    shop.sandbox.delete(f"/_sandbox/accounts/{shop.account_id}/catalogs/{catalog['id']}")
    again = {**payload, "order_id": "19"}
    failed = await _run(shop, session, event_for(shop.endpoint("opencart"), again, "k5"))
    assert failed.status is EventStatus.failed
    assert failed.last_error is not None
    assert failed.last_error.startswith(f"order 19: the products catalog {catalog['id']}")
    assert "was it deleted?" in failed.last_error


async def test_a_rate_limit_storm_and_an_expired_token_still_end_done(
    shop: Shop, session: AsyncSession
) -> None:
    shop.add_partner()
    shop.sandbox.post(f"/_sandbox/accounts/{shop.account_id}/expire-access-tokens")
    shop.sandbox.patch("/_sandbox/options", json={"rate_limit": 1, "html_429": True})
    try:
        payload, _, _ = _opencart()
        done = await _run(shop, session, event_for(shop.endpoint("opencart"), payload, "k6"))
    finally:
        shop.sandbox.patch("/_sandbox/options", json={"rate_limit": 7, "html_429": False})
    assert done.status is EventStatus.done, done.last_error
    stats = shop.sandbox.get("/_sandbox/stats").json()["accounts"][str(shop.account_id)]
    assert stats["rejected_429"] > 0


async def test_a_replayed_order_and_a_lost_checkpoint_make_one_lead(
    shop: Shop, session: AsyncSession
) -> None:
    from sqlalchemy import update

    from junction.db.tenancy import scope_to_tenant
    from junction.events.replay import ReplayFilter, replay

    shop.add_partner()
    payload, _, _ = _opencart()
    event = event_for(shop.endpoint("opencart"), payload, "k7")
    assert (await _run(shop, session, event)).status is EventStatus.done

    scope_to_tenant(session, event.tenant_id)
    assert await replay(session, shop.runtime.queue, ReplayFilter(event_ids=(event.id,))) == 1
    assert (await _run(shop, session, event)).status is EventStatus.done
    # A worker that died between amoCRM's answer and the checkpoint: only the intent to
    # create the lead was recorded, not the lead.
    await session.execute(
        update(Event).where(Event.id == event.id).values(checkpoint={"creating_lead": True})
    )
    assert await replay(session, shop.runtime.queue, ReplayFilter(event_ids=(event.id,))) == 1
    again = await _run(shop, session, event)
    assert again.status is EventStatus.done
    state = shop.state()
    assert len(state["leads"]) == 1
    assert again.result is not None
    assert again.result["lead_id"] == state["leads"][0]["id"]


async def test_a_backlog_goes_to_amocrm_in_batches_each_order_with_its_outcome(
    shop: Shop, session: AsyncSession
) -> None:
    partners = [f"70020{n}" for n in range(5)]
    for partner in partners[:4]:
        shop.add_partner(partner, name=f"Partner {partner}")
    endpoint = shop.endpoint("opencart")
    base, _, _ = _opencart()
    events = [
        event_for(endpoint, {**base, "order_id": str(100 + n), "customer_id": partner}, f"b{n}")
        for n, partner in enumerate(partners)
    ]
    await session.commit()
    shop.sandbox.post("/_sandbox/stats/reset")

    await process_event(shop.runtime, events[0].tenant_id, events[0].id)

    stored = await reload_events(session, events)
    assert [e.status for e in stored] == [EventStatus.done] * 4 + [EventStatus.failed]
    assert "no contact holds partner id '700204'" in (stored[4].last_error or "")
    state = shop.state()
    assert sorted(lead["name"] for lead in state["leads"]) == [
        f"Order {100 + n} for Ali" for n in range(4)
    ]
    assert len(state["notes"]) == 4
    assert len(state["links"]) == 4
    # Each done order names its own lead.
    leads = {e.result["lead_id"] for e in stored[:4]}  # type: ignore[index]
    assert leads == {lead["id"] for lead in state["leads"]}
    # Five partner lookups; the account's fields and catalog (4, remembered afterwards);
    # the one product found missing and created (2, remembered); and one request each
    # for the leads, the notes and the links of all four orders.
    accepted = shop.sandbox.get("/_sandbox/stats").json()["accounts"][str(shop.account_id)]
    assert accepted["accepted"] == 5 + 4 + 2 + 3


async def test_contact_mappings_are_written_to_the_partners_contact(
    shop: Shop, session: AsyncSession
) -> None:
    contact_id = shop.add_partner()
    amo_fields = {
        **shop.installation.config["amo_fields"],
        "contact.cf.phone": shop.field("contact", "Phone"),
    }
    await _configure(
        shop,
        session,
        amo_fields=amo_fields,
        mappings={**shop.installation.config["mappings"], "customer.phone": "contact.cf.phone"},
    )
    payload, _, _ = _opencart()
    done = await _run(shop, session, event_for(shop.endpoint("opencart"), payload, "c1"))
    assert done.status is EventStatus.done, done.last_error
    [contact] = shop.state()["contacts"]
    assert contact["id"] == contact_id
    phone = next(
        field
        for field in contact["custom_fields_values"]
        if field["field_id"] == shop.field("contact", "Phone")
    )
    assert phone["values"] == [{"value": "14587", "enum_code": "WORK"}]
    # The partner id is still there: only the mapped field changed.
    assert _values(contact)[shop.field("contact", "Partner ID")] == [PARTNER]
    assert done.checkpoint is not None
    assert done.checkpoint["contact_updated"] is True
