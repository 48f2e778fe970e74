"""Quotas and unpaid subscriptions pause events, never drop them, and what waited
resumes oldest first once an upgrade, a paid invoice or a new period allows it.

Stripe is localstripe plus stand-ins, as `tests.support.stripe` describes; the shop is
the echo plugin behind a real intake URL; the worker's jobs run in the test's order."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from fastapi import FastAPI
from sqlalchemy.ext.asyncio import AsyncSession

from junction.accounts.capture import MailCapture
from junction.billing.metering import resume_billing_paused
from junction.billing.quota_mail import send_quota_warnings
from junction.db.base import utcnow
from junction.events.models import EventStatus, PauseCause
from junction.runtime import Runtime
from junction.settings import Settings
from tests.billing.workspace import Workspace, work
from tests.support.accounts import sign_in_staff
from tests.support.mail import mail_to
from tests.support.stripe import (
    StripeDesk,
    deliver,
    forward,
    stripe_signature,
)


async def _grant(app: FastAPI, session: AsyncSession, shop: Workspace, plan: str) -> None:
    async with await sign_in_staff(app, session) as staff:
        granted = await staff.client.put(
            f"/api/staff/tenants/{shop.tenant_id}/billing/plan",
            json={"plan": plan, "reason": "test"},
            headers=staff.headers,
        )
        assert granted.status_code == 200, granted.text


async def test_subscribed_past_the_quota_events_wait_and_an_upgrade_resumes_them(
    shop: Workspace, stripe_desk: StripeDesk, runtime: Runtime
) -> None:
    await shop.subscribe(stripe_desk, "starter")  # 5 events a month
    ids = [await shop.order() for _ in range(8)]  # every delivery accepted (202)
    await work(runtime, shop, ids)
    events = await shop.events(ids)
    assert [e.status for e in events] == [EventStatus.done] * 5 + [EventStatus.paused] * 3
    assert {e.pause_cause for e in events[5:]} == {PauseCause.quota}
    assert "Starter plan's 5 events" in (events[5].last_error or "")
    state = await shop.billing()
    assert state["usage"]["used"] == 5
    assert state["usage"]["remaining"] == 0
    assert state["paused_events"] == {"quota": 3, "billing": 0}
    # The tenant sees why in the event itself.
    detail = (await shop.owner.client.get(f"/api/events/{ids[6]}")).json()
    assert detail["status"] == "paused"
    assert detail["pause_cause"] == "quota"

    # Still nothing resumes without room.
    assert await resume_billing_paused(runtime) == 0

    upgraded = await shop.owner.client.post(
        "/api/billing/plan", json={"plan": "business"}, headers=shop.owner.headers
    )
    assert upgraded.json()["billing"]["usage"]["remaining"] == 45
    assert await resume_billing_paused(runtime) == 3
    waiting = await shop.events(ids[5:])
    # Due again at the times they came: every claim takes the oldest first.
    assert [e.next_attempt_at for e in waiting] == [e.received_at for e in waiting]
    assert [e.status for e in waiting] == [EventStatus.retrying] * 3
    # Whichever job a worker picks up first, the batch runs them oldest first.
    await work(runtime, shop, [ids[7]])
    events = await shop.events(ids)
    assert [e.status for e in events] == [EventStatus.done] * 8
    assert (await shop.billing())["usage"]["used"] == 8


async def test_room_for_some_resumes_the_oldest_and_a_new_period_the_rest(
    app: FastAPI, shop: Workspace, session: AsyncSession, runtime: Runtime
) -> None:
    ids = [await shop.order() for _ in range(6)]
    await work(runtime, shop, ids)  # the free plan: 3 events
    assert [e.status for e in await shop.events(ids)] == [EventStatus.done] * 3 + [
        EventStatus.paused
    ] * 3
    await _grant(app, session, shop, "starter")  # 5: room for two more
    assert await resume_billing_paused(runtime) == 2
    assert [e.status for e in await shop.events(ids[3:])] == [
        EventStatus.retrying,
        EventStatus.retrying,
        EventStatus.paused,
    ]
    await work(runtime, shop, ids[3:5])
    assert [e.status for e in await shop.events(ids)] == [EventStatus.done] * 5 + [
        EventStatus.paused
    ]

    now = utcnow()
    next_month = datetime(now.year + (now.month == 12), now.month % 12 + 1, 1, 1, tzinfo=UTC)
    with time_machine.travel(next_month, tick=True):
        assert await resume_billing_paused(runtime) == 1
        await work(runtime, shop, ids[5:])
        usage = (await shop.billing())["usage"]
    assert [e.status for e in await shop.events(ids)] == [EventStatus.done] * 6
    assert usage["used"] == 1
    assert usage["period_start"].startswith(next_month.strftime("%Y-%m-01"))


async def test_an_unpaid_subscription_works_through_its_grace_then_waits_until_paid(
    shop: Workspace, stripe_desk: StripeDesk, runtime: Runtime, settings: Settings
) -> None:
    customer, _, failed = await shop.fall_behind(stripe_desk)
    assert (await deliver(shop.owner.client, failed, stripe_signature(failed))).status_code == 200
    grace_until = datetime.fromisoformat(
        (await shop.billing())["subscription"]["grace_until"].replace("Z", "+00:00")
    )
    assert grace_until - utcnow() == pytest.approx(
        timedelta(days=settings.billing_grace_days), abs=timedelta(minutes=1)
    )

    # Within the grace period, orders are processed.
    first = await shop.order()
    await work(runtime, shop, [first])
    assert (await shop.events([first]))[0].status is EventStatus.done

    with time_machine.travel(grace_until + timedelta(hours=1), tick=True):
        late = [await shop.order(), await shop.order()]
        await work(runtime, shop, late)
        waiting = await shop.events(late)
        state = await shop.billing()
        assert await resume_billing_paused(runtime) == 0
    assert [e.status for e in waiting] == [EventStatus.paused] * 2
    assert {e.pause_cause for e in waiting} == {PauseCause.billing}
    assert "grace period ended" in (waiting[0].last_error or "")
    assert state["blocked"] is not None
    assert state["paused_events"] == {"quota": 0, "billing": 2}

    # The owner pays with a new card; Stripe says so.
    stripe_desk.use_card(customer)
    stripe_desk.pay_open_invoices(customer)
    paid = [
        received
        for received in stripe_desk.wait_sent(customer, "invoice.payment_succeeded", count=2)
        if received.json()["data"]["object"]["status"] == "paid"
        and received.json()["data"]["object"]["total"] > 1900
    ]
    assert (await forward(shop.owner.client, paid[-1])).json()["outcome"] == "applied"
    assert (await shop.billing())["blocked"] is None
    assert await resume_billing_paused(runtime) == 2
    await work(runtime, shop, late)
    assert [e.status for e in await shop.events(late)] == [EventStatus.done] * 2


async def test_owners_are_warned_once_at_80_and_at_100_percent(
    app: FastAPI,
    shop: Workspace,
    session: AsyncSession,
    runtime: Runtime,
    mail_capture: MailCapture,
) -> None:
    owner = (await shop.owner.client.get("/api/auth/me")).json()["user"]["email"]
    await _grant(app, session, shop, "starter")  # 5 events
    ids = [await shop.order() for _ in range(3)]
    await work(runtime, shop, ids)
    assert await send_quota_warnings(runtime) == 0  # 60%
    ids.append(await shop.order())
    await work(runtime, shop, ids[3:])
    assert await send_quota_warnings(runtime) == 1
    warning = mail_to(mail_capture, owner, "80%")
    assert "used 4 of its 5 events" in warning.body
    assert await send_quota_warnings(runtime) == 0  # once
    ids += [await shop.order(), await shop.order()]
    await work(runtime, shop, ids[4:])
    assert await send_quota_warnings(runtime) == 1
    full = mail_to(mail_capture, owner, "used up")
    assert "none is lost" in full.body
    assert await send_quota_warnings(runtime) == 0
    assert len([m for m in mail_capture.to(owner) if "Junction" in m.subject]) == 2
