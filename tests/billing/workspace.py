"""A workspace for the billing tests: an owner signed in, the echo plugin behind a shop
URL, orders sent to it, and its subscription made through Checkout (see
`tests.support.stripe` for what stands in for Stripe how)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

from fastapi import FastAPI
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from junction.billing.models import TenantBilling
from junction.db.tenancy import cross_tenant
from junction.events.models import Event
from junction.events.processing import process_event
from junction.runtime import Runtime
from junction.tenancy.models import Tenant
from tests.factories import InboundEndpointFactory, PluginInstallationFactory
from tests.support.accounts import SignedIn, sign_in
from tests.support.events import reload_events
from tests.support.stripe import DECLINING_CARD, StripeDesk, deliver, stripe_signature


@dataclass
class Workspace:
    owner: SignedIn
    tenant_id: uuid.UUID
    token: str
    session: AsyncSession
    sent: int = 0

    async def order(self, **fields: Any) -> uuid.UUID:
        """The shop sends an order; Junction's answer is the stored event's id."""
        self.sent += 1
        answer = await self.owner.client.post(
            f"/hooks/{self.token}",
            json={"order_id": f"O-{self.sent}", **fields},
            headers={"Idempotency-Key": f"order-{self.sent}"},
        )
        assert answer.status_code == 202, answer.text
        return uuid.UUID(answer.json()["event_id"])

    async def events(self, ids: list[uuid.UUID]) -> list[Event]:
        with cross_tenant(self.session, "test: events by id"):
            found = list(await self.session.scalars(select(Event).where(Event.id.in_(ids))))
        return await reload_events(self.session, sorted(found, key=lambda e: ids.index(e.id)))

    async def billing(self) -> dict[str, Any]:
        answer = await self.owner.client.get("/api/billing")
        assert answer.status_code == 200, answer.text
        found: dict[str, Any] = answer.json()
        return found

    async def row(self) -> TenantBilling:
        self.session.expunge_all()
        with cross_tenant(self.session, "test: billing row"):
            row = await self.session.get(TenantBilling, self.tenant_id)
        assert row is not None
        return row

    async def subscribe(self, desk: StripeDesk, plan: str) -> tuple[str, dict[str, Any]]:
        """Choose a plan, pay at Checkout, and let Stripe's event arrive. Returns the
        customer and the subscription."""
        chosen = await self.owner.client.post(
            "/api/billing/plan", json={"plan": plan}, headers=self.owner.headers
        )
        assert chosen.status_code == 200, chosen.text
        assert chosen.json()["checkout_url"].startswith("https://checkout.stripe.test/")
        customer = (await self.row()).stripe_customer_id
        assert customer is not None
        session = desk.sessions(customer)[-1]
        subscription = desk.pay_checkout(session)
        body = desk.checkout_completed(session, subscription["id"])
        answer = await deliver(self.owner.client, body, stripe_signature(body))
        assert answer.status_code == 200, answer.text
        assert answer.json()["outcome"] == "applied"
        return customer, subscription

    async def fall_behind(self, desk: StripeDesk) -> tuple[str, dict[str, Any], bytes]:
        """Subscribe to Starter, then move to yearly billing with a card that is declined:
        the subscription is past due. Returns the customer, the subscription and the
        `invoice.payment_failed` event Stripe would send (not yet delivered)."""
        customer, subscription = await self.subscribe(desk, "starter")
        desk.use_card(customer, DECLINING_CARD)
        moved = await self.owner.client.post(
            "/api/billing/plan", json={"plan": "starter-yearly"}, headers=self.owner.headers
        )
        assert moved.json()["billing"]["subscription"]["status"] == "past_due"
        return customer, subscription, desk.payment_failed(subscription["id"])


async def open_workspace(app: FastAPI, session: AsyncSession, token: str) -> Workspace:
    endpoint = InboundEndpointFactory(installation=PluginInstallationFactory(), token=token)
    await session.commit()
    tenant = await _tenant(session, endpoint.tenant_id)
    owner = await sign_in(app, session, tenant)
    return Workspace(owner, endpoint.tenant_id, token, session)


async def _tenant(session: AsyncSession, tenant_id: uuid.UUID) -> Tenant:
    tenant = await session.get(Tenant, tenant_id)
    assert tenant is not None
    return tenant


async def work(runtime: Runtime, workspace: Workspace, ids: list[uuid.UUID]) -> None:
    """The worker takes each event's job, in the order given."""
    for event_id in ids:
        await process_event(runtime, workspace.tenant_id, event_id)
