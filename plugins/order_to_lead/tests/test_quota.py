"""A subscribed shop past its plan's quota: the orders wait, none lost, and after an
upgrade their leads appear in the amoCRM sandbox in the order the orders came.

Stripe is localstripe plus stand-ins, as `tests.support.stripe` describes; amoCRM is the
sandbox over HTTP."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from datetime import timedelta

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from junction.billing.metering import resume_billing_paused
from junction.db.base import utcnow
from junction.events.models import EventStatus, PauseCause
from junction.events.processing import process_event
from junction.settings import Settings
from junction.tenancy.models import Role
from tests.support.accounts import api_with_key
from tests.support.events import reload_events
from tests.support.order_to_lead_shop import PARTNER, Shop, event_for
from tests.support.stripe import StripeDesk, billing_settings, deliver, stripe_signature


@pytest.fixture
def settings(settings: Settings, stripe_url: str) -> Settings:
    return billing_settings(settings, stripe_url)


@pytest.fixture
async def owner_api(
    shop: Shop,
    settings: Settings,
    sessionmaker: async_sessionmaker[AsyncSession],
    session: AsyncSession,
) -> AsyncIterator[httpx.AsyncClient]:
    """Junction's API as the shop's owner (an owner's API key)."""
    tenant = shop.installation.tenant
    async with api_with_key(settings, sessionmaker, session, tenant, Role.owner) as client:
        yield client


def _order(number: int) -> dict[str, object]:
    return {
        "id": f"G-{number}",
        "total": f"{100 + number}.00",
        "partner_id": PARTNER,
        "items": [{"sku": "G1", "name": "Widget", "quantity": 1, "price": "100"}],
    }


async def test_orders_past_the_quota_wait_and_become_leads_in_order_after_an_upgrade(
    shop: Shop, owner_api: httpx.AsyncClient, session: AsyncSession, stripe_desk: StripeDesk
) -> None:
    shop.add_partner()
    # Subscribe to Starter (5 orders a month) through Checkout.
    chosen = await owner_api.post("/api/billing/plan", json={"plan": "starter"})
    assert chosen.status_code == 200, chosen.text
    before = chosen.json()["billing"]
    sessions = [
        s
        for s in json.loads(httpx.get(f"{stripe_desk.url}/_config/stand_in/sessions").text)
        if s.get("client_reference_id") == str(shop.installation.tenant_id)
    ]
    paid = stripe_desk.pay_checkout(sessions[-1])
    body = stripe_desk.checkout_completed(sessions[-1], paid["id"])
    assert (await deliver(owner_api, body, stripe_signature(body))).json()["outcome"] == "applied"
    state = (await owner_api.get("/api/billing")).json()
    assert (state["plan"]["key"], state["subscription"]["status"]) == ("starter", "active")
    assert before["usage"]["quota"] == 3  # the free plan, until Stripe said it was paid

    endpoint = shop.endpoint("generic-json")
    events = [event_for(endpoint, _order(n), f"src:order:G-{n}") for n in range(1, 9)]
    # Delivered one after another (made in one flush, they could share a microsecond).
    start = utcnow()
    for n, event in enumerate(events):
        event.received_at = event.next_attempt_at = start + timedelta(milliseconds=n)
    await session.commit()
    for event in events:  # each order's job, as they came
        await process_event(shop.runtime, event.tenant_id, event.id)
    stored = await reload_events(session, events)
    assert [e.status for e in stored] == [EventStatus.done] * 5 + [EventStatus.paused] * 3
    assert {e.pause_cause for e in stored[5:]} == {PauseCause.quota}
    assert len(shop.state()["leads"]) == 5

    upgraded = await owner_api.post("/api/billing/plan", json={"plan": "business"})
    assert upgraded.json()["checkout_url"] is None
    assert await resume_billing_paused(shop.runtime) == 3
    # The newest order's job is the one a worker happens to take first.
    await process_event(shop.runtime, events[-1].tenant_id, events[-1].id)
    stored = await reload_events(session, events)
    assert [e.status for e in stored] == [EventStatus.done] * 8

    leads = sorted(shop.state()["leads"], key=lambda lead: lead["id"])
    marker = shop.field("lead", "Order ID")
    orders = [
        next(
            f["values"][0]["value"] for f in lead["custom_fields_values"] if f["field_id"] == marker
        )
        for lead in leads
    ]
    assert orders == [f"order:G-{n}" for n in range(1, 9)]
    assert (await owner_api.get("/api/billing")).json()["usage"]["used"] == 8
