"""Subscriptions through Stripe: Checkout, the portal, invoices, and Stripe's webhook
(signatures, events applied once, in any order). Stripe is localstripe plus stand-ins,
as `tests.support.stripe` describes."""

from __future__ import annotations

import json
import random
import time
from typing import Any

import pytest
from fastapi import FastAPI
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from junction.billing.models import StripeEvent
from junction.billing.prices import Price, PriceBook
from junction.billing.stripe_api import StripeApi
from junction.billing.subscriptions import subscription_facts
from junction.db.tenancy import cross_tenant
from junction.settings import Settings, SettingsError, load_settings
from junction.tenancy.models import Role, Tenant
from tests.billing.workspace import Workspace
from tests.support.accounts import sign_in, sign_in_staff
from tests.support.stripe import (
    STRIPE_KEY,
    WEBHOOK_SECRET,
    StripeDesk,
    deliver,
    forward,
    stripe_signature,
)


async def _recorded(session: AsyncSession) -> int:
    with cross_tenant(session, "test: Stripe events recorded"):
        return int(await session.scalar(select(func.count()).select_from(StripeEvent)) or 0)


async def test_checkout_makes_one_customer_and_the_paid_session_starts_the_plan(
    shop: Workspace, stripe_desk: StripeDesk
) -> None:
    before = await shop.billing()
    assert before["enabled"] is True
    assert before["plan"]["key"] == "free"
    assert before["source"] == "free"
    assert before["usage"]["quota"] == 3

    # Twice to Checkout (the owner went back once): one Stripe customer.
    for _ in range(2):
        chosen = await shop.owner.client.post(
            "/api/billing/plan", json={"plan": "starter"}, headers=shop.owner.headers
        )
        assert chosen.status_code == 200, chosen.text
    customer = (await shop.row()).stripe_customer_id
    assert customer is not None
    sessions = stripe_desk.sessions(customer)
    assert len(sessions) == 2
    asked = sessions[-1]
    assert asked["mode"] == "subscription"
    assert asked["client_reference_id"] == str(shop.tenant_id)
    assert asked["line_items"][0]["price"] == "price_test_starter"
    assert int(asked["subscription_data"]["trial_period_days"]) == 14
    assert asked["success_url"].endswith("/app/billing?checkout=done")

    subscription = stripe_desk.pay_checkout(asked)
    body = stripe_desk.checkout_completed(asked, subscription["id"])
    answer = await deliver(shop.owner.client, body, stripe_signature(body))
    assert answer.json() == {"received": json.loads(body)["id"], "outcome": "applied"}

    after = await shop.billing()
    assert after["plan"]["key"] == "starter"
    assert after["source"] == "subscription"
    assert after["subscription"]["status"] == "active"
    assert after["usage"]["quota"] == 5
    # localstripe's own deliveries about the subscription change nothing more.
    for received in stripe_desk.wait_sent(customer, "customer.subscription.created"):
        assert (await forward(shop.owner.client, received)).status_code == 200
    assert await shop.billing() == after


async def test_plan_choice_errors_say_what_is_wrong(
    app: FastAPI, shop: Workspace, session: AsyncSession
) -> None:
    unknown = await shop.owner.client.post(
        "/api/billing/plan", json={"plan": "gold"}, headers=shop.owner.headers
    )
    assert unknown.status_code == 422
    assert unknown.json()["error"]["field"] == "plan"
    assert (
        "free, starter, starter-yearly, business, unlimited" in unknown.json()["error"]["message"]
    )
    free = await shop.owner.client.post(
        "/api/billing/plan", json={"plan": "free"}, headers=shop.owner.headers
    )
    assert free.status_code == 409
    assert "not sold" in free.json()["error"]["message"]
    portal = await shop.owner.client.post("/api/billing/portal", headers=shop.owner.headers)
    assert portal.status_code == 409
    assert "never subscribed" in portal.json()["error"]["message"]
    tenant = await session.get(Tenant, shop.tenant_id)
    assert tenant is not None
    async with await sign_in(app, session, tenant, Role.admin) as admin:
        refused = await admin.client.post(
            "/api/billing/plan", json={"plan": "starter"}, headers=admin.headers
        )
        assert refused.status_code == 403
        assert "owners" in refused.json()["error"]["message"]


async def test_upgrade_changes_the_plan_at_once_and_the_portal_and_invoices_follow(
    shop: Workspace, stripe_desk: StripeDesk
) -> None:
    customer, subscription = await shop.subscribe(stripe_desk, "starter")
    changed = await shop.owner.client.post(
        "/api/billing/plan", json={"plan": "business"}, headers=shop.owner.headers
    )
    assert changed.status_code == 200, changed.text
    assert changed.json()["checkout_url"] is None
    assert changed.json()["billing"]["plan"]["key"] == "business"
    # Stripe holds the change too.
    held = stripe_desk.client.v1.subscriptions.retrieve(subscription["id"]).to_dict()
    assert subscription_facts(held)["stripe_price"] == "price_test_business"
    again = await shop.owner.client.post(
        "/api/billing/plan", json={"plan": "business"}, headers=shop.owner.headers
    )
    assert again.status_code == 409
    assert "already on the plan" in again.json()["error"]["message"]
    log = (await shop.owner.client.get("/api/audit")).json()
    assert [(e["action"], e["diff"]["plan"]) for e in log] == [
        ("billing.plan_changed", {"from": "starter", "to": "business"}),
        ("billing.checkout_started", {"from": "free", "to": "starter"}),
    ]

    portal = await shop.owner.client.post("/api/billing/portal", headers=shop.owner.headers)
    assert portal.status_code == 200
    assert portal.json()["url"].startswith("https://billing.stripe.test/")
    assert stripe_desk.sessions(customer)[-1]["return_url"].endswith("/app/billing")

    invoices = (await shop.owner.client.get("/api/billing/invoices")).json()
    assert invoices, "the first month was invoiced"
    assert invoices[0]["status"] == "paid"
    assert invoices[0]["amount_paid"] == 1900
    assert invoices[0]["currency"] == "eur"


async def test_a_forged_or_stale_signature_changes_nothing(
    shop: Workspace, stripe_desk: StripeDesk, session: AsyncSession
) -> None:
    chosen = await shop.owner.client.post(
        "/api/billing/plan", json={"plan": "starter"}, headers=shop.owner.headers
    )
    assert chosen.status_code == 200
    customer = (await shop.row()).stripe_customer_id
    assert customer is not None
    checkout = stripe_desk.sessions(customer)[-1]
    subscription = stripe_desk.pay_checkout(checkout)
    body = stripe_desk.checkout_completed(checkout, subscription["id"])
    recorded = await _recorded(session)

    forged = [
        stripe_signature(body, secret="whsec_someone_else"),
        stripe_signature(body, at=int(time.time()) - 301),
        stripe_signature(body, at=int(time.time()) + 3600),
        stripe_signature(body + b" "),
        "t=1,v1=",
        "",
    ]
    for signature in forged:
        answer = await deliver(shop.owner.client, body, signature)
        assert answer.status_code == 400, signature
        assert answer.json()["error"]["code"] == "bad_signature"
        assert WEBHOOK_SECRET not in answer.text
    tampered = body.replace(b'"paid"', b'"unpaid"')
    answer = await deliver(shop.owner.client, tampered, stripe_signature(body))
    assert answer.status_code == 400
    assert (await shop.billing())["plan"]["key"] == "free"
    assert await _recorded(session) == recorded

    # The genuine delivery still works afterwards.
    answer = await deliver(shop.owner.client, body, stripe_signature(body))
    assert answer.json()["outcome"] == "applied"
    assert (await shop.billing())["plan"]["key"] == "starter"


async def test_duplicated_and_reordered_events_leave_the_state_stripe_holds(
    shop: Workspace, stripe_desk: StripeDesk
) -> None:
    customer, subscription, failed = await shop.fall_behind(stripe_desk)
    # A new card, and the open invoice is paid: active again.
    stripe_desk.use_card(customer)
    stripe_desk.pay_open_invoices(customer)
    stripe_desk.wait_sent(customer, "invoice.payment_succeeded", count=2)
    deliveries = [(r.body, r.headers["stripe-signature"]) for r in stripe_desk.sent(customer)]
    deliveries.append((failed, stripe_signature(failed)))
    assert {json.loads(body)["type"] for body, _ in deliveries} >= {
        "customer.subscription.created",
        "invoice.payment_succeeded",
        "invoice.payment_failed",
    }

    # Every delivery twice, shuffled.
    shuffled = [*deliveries, *deliveries]
    random.Random(7).shuffle(shuffled)
    outcomes: dict[str, list[str]] = {}
    for body, signature in shuffled:
        answer = await deliver(shop.owner.client, body, signature)
        assert answer.status_code == 200, answer.text
        outcomes.setdefault(answer.json()["received"], []).append(answer.json()["outcome"])
    assert all(later == ["duplicate"] for _, *later in outcomes.values())

    held = stripe_desk.client.v1.subscriptions.retrieve(subscription["id"]).to_dict()
    assert held["status"] == "active"
    row = await shop.row()
    assert {k: getattr(row, k) for k in subscription_facts(held)} == subscription_facts(held)
    state = await shop.billing()
    assert state["plan"]["key"] == "starter-yearly"
    assert state["subscription"]["status"] == "active"
    assert state["subscription"]["grace_until"] is None
    # In order, once more: nothing changes.
    for body, signature in deliveries:
        assert (await deliver(shop.owner.client, body, signature)).json()["outcome"] == "duplicate"
    assert await shop.billing() == state


async def test_late_news_of_an_ended_subscription_leaves_the_new_one(
    shop: Workspace, stripe_desk: StripeDesk
) -> None:
    customer, first = await shop.subscribe(stripe_desk, "starter")
    # The owner cancels (in the portal), and later subscribes again through Checkout.
    stripe_desk.client.v1.subscriptions.cancel(first["id"])
    [ended] = stripe_desk.wait_sent(customer, "customer.subscription.deleted")
    assert (await forward(shop.owner.client, ended)).json()["outcome"] == "applied"
    assert (await shop.billing())["plan"]["key"] == "free"
    _, second = await shop.subscribe(stripe_desk, "business")
    # The first subscription's first invoice, delivered late.
    late = [
        received
        for received in stripe_desk.wait_sent(customer, "invoice.payment_succeeded", count=2)
        if json.loads(received.body)["data"]["object"]["subscription"] == first["id"]
    ]
    assert (await forward(shop.owner.client, late[0])).json()["outcome"] == "superseded"
    state = await shop.billing()
    assert state["plan"]["key"] == "business"
    assert state["subscription"]["status"] == "active"
    assert (await shop.row()).stripe_subscription_id == second["id"]


async def test_staff_grant_a_plan_by_hand_audited(
    app: FastAPI, shop: Workspace, session: AsyncSession
) -> None:
    async with await sign_in_staff(app, session) as staff:
        url = f"/api/staff/tenants/{shop.tenant_id}/billing/plan"
        bad = await staff.client.put(
            url, json={"plan": "gold", "reason": "pilot"}, headers=staff.headers
        )
        assert bad.status_code == 422
        assert bad.json()["error"]["field"] == "plan"
        no_reason = await staff.client.put(url, json={"plan": "unlimited"}, headers=staff.headers)
        assert no_reason.status_code == 422
        granted = await staff.client.put(
            url, json={"plan": "unlimited", "reason": "partner pilot"}, headers=staff.headers
        )
        assert granted.status_code == 200, granted.text
        assert granted.json()["source"] == "granted"
        assert granted.json()["usage"]["quota"] is None
        assert (await shop.billing())["plan"]["key"] == "unlimited"
        taken = await staff.client.put(
            url, json={"plan": None, "reason": "pilot over"}, headers=staff.headers
        )
        assert taken.json()["plan"]["key"] == "free"
        log = (await staff.client.get(f"/api/staff/tenants/{shop.tenant_id}/audit")).json()
    assert [e["action"] for e in log] == ["billing.grant_withdrawn", "billing.plan_granted"]
    assert log[1]["diff"]["reason"] == "partner pilot"
    assert {e["actor_type"] for e in log} == {"staff"}


async def test_the_plans_show_what_stripe_charges(shop: Workspace) -> None:
    answer = await shop.owner.client.get("/api/billing/plans")
    prices = {plan["key"]: plan["price"] for plan in answer.json()}
    assert prices["free"] is None
    assert prices["starter"] == {
        "amount": 1900,
        "currency": "eur",
        "interval": "month",
        "interval_count": 1,
    }
    assert prices["starter-yearly"]["amount"] == 19000
    assert prices["starter-yearly"]["interval"] == "year"


async def test_a_price_stripe_does_not_know_is_left_out_not_fatal(settings: Settings) -> None:
    book = PriceBook(StripeApi(settings))
    found = await book.prices(["price_test_business", "price_nobody_made"])
    assert found == {
        "price_test_business": Price(
            amount=9900, currency="eur", interval="month", interval_count=1
        ),
        "price_nobody_made": None,
    }


def test_a_broken_plans_file_stops_start_up_with_its_reason(tmp_path: Any) -> None:
    cases = {
        "free: free\nplans: [{key: free, name: Free}, {key: free, name: Again}]": "repeated: free",
        "free: gold\nplans: [{key: free, name: Free}]": "no plan has the key 'gold'",
        "free: free\nplans: [{key: free, name: Free, monthly_events: -1}]": "monthly_events",
        "free: free\nplans: [{key: free, name: Free, colour: red}]": "colour",
        "plans: [": "not valid YAML",
    }
    for text, expected in cases.items():
        path = tmp_path / "plans.yaml"
        path.write_text(text)
        with pytest.raises(SettingsError) as refused:
            load_settings(
                stripe_secret_key=STRIPE_KEY,
                stripe_webhook_secret=WEBHOOK_SECRET,
                billing_plans_file=path,
            )
        assert expected in str(refused.value), (text, str(refused.value))
        assert STRIPE_KEY not in str(refused.value)
    with pytest.raises(SettingsError) as refused:
        load_settings(stripe_secret_key=STRIPE_KEY)
    assert "JUNCTION_STRIPE_WEBHOOK_SECRET is required" in str(refused.value)
