"""Without a Stripe key (self-hosting, the demo) billing is off: every workspace is
unlimited and Junction makes no call to Stripe, anywhere."""

from __future__ import annotations

import time
from typing import Any

import pytest
import stripe._http_client as stripe_http
from fastapi import FastAPI
from sqlalchemy.ext.asyncio import AsyncSession

from junction.billing.metering import resume_billing_paused
from junction.billing.quota_mail import send_quota_warnings
from junction.billing.stripe_api import StripeApi
from junction.events.models import EventStatus
from junction.runtime import Runtime
from junction.settings import Settings
from junction.worker.jobs import send_alerts, sweep
from tests.billing.workspace import open_workspace, work
from tests.support.accounts import sign_in_staff
from tests.support.stripe import billing_settings, stripe_signature


@pytest.fixture
def stripe_calls(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Every request the Stripe library would send, from any of its HTTP clients."""
    calls: list[str] = []

    def record(name: str) -> Any:
        def call(self: Any, method: str, url: str, *args: Any, **kwargs: Any) -> Any:
            calls.append(f"{name} {method} {url}")
            raise AssertionError(f"a Stripe call with billing off: {method} {url}")

        return call

    for name in (
        "request_with_retries",
        "request_stream_with_retries",
        "request_with_retries_async",
        "request_stream_with_retries_async",
    ):
        monkeypatch.setattr(stripe_http.HTTPClient, name, record(name))
    return calls


async def test_billing_off_means_unlimited_and_no_stripe_call(
    app: FastAPI,
    session: AsyncSession,
    runtime: Runtime,
    settings: Settings,
    stripe_calls: list[str],
) -> None:
    assert not settings.billing_enabled
    assert runtime.billing is None
    shop = await open_workspace(app, session, f"tok-off-{time.monotonic_ns()}")
    # Far past any plan's quota: all processed.
    ids = [await shop.order() for _ in range(12)]
    await work(runtime, shop, ids)
    assert [e.status for e in await shop.events(ids)] == [EventStatus.done] * 12

    state = await shop.billing()
    assert state == {
        "enabled": False,
        "plan": None,
        "source": None,
        "subscription": None,
        "usage": None,
        "blocked": None,
        "paused_events": {"quota": 0, "billing": 0},
    }
    for path, choice in [
        ("/api/billing/plan", {"plan": "starter"}),
        ("/api/billing/portal", None),
    ]:
        answer = await shop.owner.client.post(path, json=choice, headers=shop.owner.headers)
        assert answer.status_code == 409
        assert answer.json()["error"]["code"] == "billing_off"
    for path in ("/api/billing/plans", "/api/billing/invoices"):
        assert (await shop.owner.client.get(path)).json()["error"]["code"] == "billing_off"
    body = b'{"id": "evt_1", "type": "invoice.paid", "data": {"object": {}}}'
    hook = await shop.owner.client.post(
        "/billing/stripe/webhook",
        content=body,
        headers={"Stripe-Signature": stripe_signature(body)},
    )
    assert hook.status_code == 404
    async with await sign_in_staff(app, session) as staff:
        grant = await staff.client.put(
            f"/api/staff/tenants/{shop.tenant_id}/billing/plan",
            json={"plan": "starter", "reason": "pilot"},
            headers=staff.headers,
        )
        assert grant.status_code == 409
        installed = await staff.client.post(
            f"/api/staff/tenants/{shop.tenant_id}/installations",
            json={"plugin": "order_to_lead", "config": {}},
            headers=staff.headers,
        )
        # No plan stands in the way (installed unconfigured: the tenant fills it in).
        assert installed.status_code == 201, installed.text

    # The worker's periodic jobs, billing's parts among them.
    context = {"runtime": runtime}
    await sweep(context)
    await send_alerts(context)
    assert await resume_billing_paused(runtime) == 0
    assert await send_quota_warnings(runtime) == 0
    assert stripe_calls == []


async def test_the_guard_sees_a_stripe_call(settings: Settings, stripe_calls: list[str]) -> None:
    """The fixture above would catch a call: one made on purpose is seen."""
    api = StripeApi(billing_settings(settings, "http://127.0.0.1:9"))
    with pytest.raises(AssertionError):
        await api.subscription("sub_123")
    assert len(stripe_calls) == 1
    assert "/v1/subscriptions/sub_123" in stripe_calls[0]
