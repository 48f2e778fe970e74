"""Benchmark: what billing costs the processing of events, how exactly quotas hold under
concurrent workers, how fast paused events resume, and Stripe's webhook.

Drives `process_event` in this process against a fresh database (echo plugin, batches
of up to 50), with localstripe (a local Stripe server) for the Stripe side:

1. one order at a time (each event processed alone, as a live shop's orders are): p50 and
   p99 of an event's processing with billing off and on (`single_*`);
2. a backlog of BACKLOG events, eight jobs at once: events per second, off and on;
3. a quota of QUOTA events and QUOTA + EXTRA events processed eight jobs at once: how
   many ran (must be exactly QUOTA) and how many wait paused;
4. the plan upgraded: the time to resume the paused ones, and to process them;
5. Stripe's webhook: WEBHOOKS signed subscription events through the API (each read back
   from localstripe), eight at a time: per second, p50 and p99.

Prints one JSON object on its last line. `--backend postgres` needs PostgreSQL and Redis
on 127.0.0.1 (a fresh database is created); `embedded` uses SQLite and the embedded Redis.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import secrets
import subprocess
import sys
import time
import uuid
from pathlib import Path
from typing import Any

import httpx
from harness import ROOT, bench_environment, free_port, junction, pick_backend, stop, wait_until

SINGLE = 300
BACKLOG = 2000
QUOTA = 500
EXTRA = 300
WEBHOOKS = 300
AT_ONCE = 8
STRIPE_KEY = "sk_test_bench"
WEBHOOK_SECRET = "whsec_bench_secret"
PLANS = f"""
free: free
plans:
  - {{key: free, name: Free, monthly_events: 3}}
  - {{key: capped, name: Capped, stripe_price: price_bench_capped, monthly_events: {QUOTA}}}
  - {{key: big, name: Big, stripe_price: price_bench_big}}
"""


def _percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return round(ordered[max(int(len(ordered) * share) - 1, 0)], 2)


def stripe_subscription(stripe_url: str) -> tuple[str, dict[str, Any]]:
    """A paying customer with a subscription in localstripe."""
    stripe = httpx.Client(base_url=stripe_url, auth=(STRIPE_KEY, ""))
    product = stripe.post("/v1/products", data={"name": "Bench"}).json()["id"]
    stripe.post(
        "/v1/plans",
        data={
            "id": "price_bench_capped",
            "product": product,
            "amount": 1000,
            "currency": "eur",
            "interval": "month",
        },
    ).raise_for_status()
    customer = stripe.post("/v1/customers", data={"name": "Bench"}).json()["id"]
    method = stripe.post(
        "/v1/payment_methods",
        data={
            "type": "card",
            "card[number]": "4242424242424242",
            "card[exp_month]": 12,
            "card[exp_year]": 2031,
            "card[cvc]": "123",
        },
    ).json()["id"]
    stripe.post(f"/v1/payment_methods/{method}/attach", data={"customer": customer})
    stripe.post(
        f"/v1/customers/{customer}",
        data={"invoice_settings[default_payment_method]": method},
    )
    subscription = stripe.post(
        "/v1/subscriptions", data={"customer": customer, "items[0][plan]": "price_bench_capped"}
    ).json()
    return customer, subscription


async def run(customer: str, subscription: dict[str, Any]) -> dict[str, Any]:
    from asgi_lifespan import LifespanManager
    from sqlalchemy import func, select
    from stripe import WebhookSignature

    from junction.app import create_app
    from junction.billing.metering import resume_billing_paused
    from junction.billing.models import BillingUsage, TenantBilling
    from junction.db.tenancy import cross_tenant, scope_to_tenant
    from junction.events.models import Event
    from junction.events.processing import process_event
    from junction.intake.models import InboundEndpoint
    from junction.plugins.models import PluginInstallation
    from junction.runtime import Runtime, open_runtime
    from junction.settings import Settings
    from junction.tenancy.models import Tenant

    billed = await open_runtime(Settings())
    unbilled = await open_runtime(
        Settings(stripe_secret_key="", stripe_webhook_secret="", stripe_api_url=None)
    )
    assert billed.billing is not None
    assert unbilled.billing is None

    async def workspace(name: str, plan: str | None) -> tuple[uuid.UUID, uuid.UUID]:
        tenant_id = uuid.uuid4()
        async with billed.sessionmaker() as session:
            session.add(Tenant(id=tenant_id, slug=f"{name}-{tenant_id.hex[:6]}", name=name))
            installation = PluginInstallation(tenant_id=tenant_id, plugin="echo", config={})
            session.add(installation)
            await session.flush()
            endpoint = InboundEndpoint(
                tenant_id=tenant_id,
                installation_id=installation.id,
                name="Shop",
                source_format="echo",
                token_hash=secrets.token_hex(32),
                token_encrypted=billed.secretbox.encrypt(secrets.token_urlsafe(24)),
            )
            session.add(endpoint)
            if plan is not None:
                session.add(TenantBilling(tenant_id=tenant_id, granted_plan=plan))
            await session.commit()
            return tenant_id, endpoint.id

    async def orders(tenant_id: uuid.UUID, endpoint_id: uuid.UUID, count: int) -> list[uuid.UUID]:
        async with billed.sessionmaker() as session:
            made = [
                Event(
                    tenant_id=tenant_id,
                    endpoint_id=endpoint_id,
                    idempotency_key=f"o:{uuid.uuid4().hex}",
                    payload={"order_id": n},
                )
                for n in range(count)
            ]
            session.add_all(made)
            await session.commit()
            return [event.id for event in made]

    async def lanes(runtime: Runtime, tenant_id: uuid.UUID, ids: list[uuid.UUID]) -> float:
        gate = asyncio.Semaphore(AT_ONCE)

        async def one(event_id: uuid.UUID) -> None:
            async with gate:
                await process_event(runtime, tenant_id, event_id)

        started = time.perf_counter()
        await asyncio.gather(*(one(event_id) for event_id in ids))
        return time.perf_counter() - started

    async def statuses(tenant_id: uuid.UUID) -> dict[str, int]:
        async with billed.sessionmaker() as session:
            scope_to_tenant(session, tenant_id)
            rows = await session.execute(select(Event.status, func.count()).group_by(Event.status))
            return {str(status): count for status, count in rows.all()}

    figures: dict[str, Any] = {}
    try:
        # 1. One order at a time.
        for label, runtime, plan in (("off", unbilled, None), ("on", billed, "big")):
            tenant_id, endpoint_id = await workspace(f"single-{label}", plan)
            times = []
            for event_id in await orders(tenant_id, endpoint_id, SINGLE):
                started = time.perf_counter()
                await process_event(runtime, tenant_id, event_id)
                times.append((time.perf_counter() - started) * 1000)
            assert (await statuses(tenant_id)) == {"done": SINGLE}
            figures[f"single_p50_ms_billing_{label}"] = _percentile(times, 0.5)
            figures[f"single_p99_ms_billing_{label}"] = _percentile(times, 0.99)

        # 2. A backlog.
        for label, runtime, plan in (("off", unbilled, None), ("on", billed, "big")):
            tenant_id, endpoint_id = await workspace(f"backlog-{label}", plan)
            ids = await orders(tenant_id, endpoint_id, BACKLOG)
            elapsed = await lanes(runtime, tenant_id, ids)
            assert (await statuses(tenant_id)) == {"done": BACKLOG}
            figures[f"backlog_per_s_billing_{label}"] = round(BACKLOG / elapsed, 1)

        # 3. Concurrent workers at a quota.
        tenant_id, endpoint_id = await workspace("capped", "capped")
        ids = await orders(tenant_id, endpoint_id, QUOTA + EXTRA)
        elapsed = await lanes(billed, tenant_id, ids)
        counted = await statuses(tenant_id)
        async with billed.sessionmaker() as session:
            scope_to_tenant(session, tenant_id)
            used = await session.scalar(select(BillingUsage.used))
        figures["quota"] = QUOTA
        figures["done_at_quota"] = counted.get("done", 0)
        figures["paused_past_quota"] = counted.get("paused", 0)
        figures["usage_counted"] = used
        figures["at_quota_per_s"] = round((QUOTA + EXTRA) / elapsed, 1)
        assert counted == {"done": QUOTA, "paused": EXTRA}, counted
        assert used == QUOTA, used

        # 4. Upgrade and resume.
        async with billed.sessionmaker() as session:
            scope_to_tenant(session, tenant_id)
            row = await session.get(TenantBilling, tenant_id)
            assert row is not None
            row.granted_plan = "big"
            await session.commit()
        started = time.perf_counter()
        resumed = await resume_billing_paused(billed)
        figures["resume_ms"] = round((time.perf_counter() - started) * 1000, 1)
        assert resumed == EXTRA, resumed
        elapsed = await lanes(billed, tenant_id, ids[QUOTA:])
        assert (await statuses(tenant_id)) == {"done": QUOTA + EXTRA}
        figures["resumed"] = resumed
        figures["resumed_processed_per_s"] = round(EXTRA / elapsed, 1)

        # 5. Stripe's webhook.
        hooked, _ = await workspace("hooked", None)
        async with billed.sessionmaker() as session:
            session.add(TenantBilling(tenant_id=hooked, stripe_customer_id=customer))
            await session.commit()
        app = create_app(Settings())
        times = []
        async with (
            LifespanManager(app),
            httpx.AsyncClient(
                transport=httpx.ASGITransport(app=app), base_url="http://junction.bench"
            ) as api,
        ):
            gate = asyncio.Semaphore(AT_ONCE)

            async def hook(n: int) -> None:
                body = json.dumps(
                    {
                        "id": f"evt_bench_{n}_{uuid.uuid4().hex[:8]}",
                        "object": "event",
                        "type": "customer.subscription.updated",
                        "created": int(time.time()),
                        "data": {"object": subscription},
                    }
                )
                header = WebhookSignature.generate_signature_header(body, WEBHOOK_SECRET)
                async with gate:
                    started = time.perf_counter()
                    answer = await api.post(
                        "/billing/stripe/webhook",
                        content=body,
                        headers={"Stripe-Signature": header},
                    )
                    times.append((time.perf_counter() - started) * 1000)
                assert answer.json()["outcome"] == "applied", answer.text

            started = time.perf_counter()
            await asyncio.gather(*(hook(n) for n in range(WEBHOOKS)))
            elapsed = time.perf_counter() - started
        async with billed.sessionmaker() as session:
            with cross_tenant(session, "bench: the subscription applied"):
                row = await session.get(TenantBilling, hooked)
        assert row is not None
        assert row.subscription_status == "active"
        figures["webhooks_per_s"] = round(WEBHOOKS / elapsed, 1)
        figures["webhook_p50_ms"] = _percentile(times, 0.5)
        figures["webhook_p99_ms"] = _percentile(times, 0.99)
    finally:
        await billed.close()
        await unbilled.close()
    return figures


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--backend", choices=["auto", "postgres", "embedded"], default="auto")
    backend = pick_backend(parser.parse_args().backend)
    stripe_url = f"http://127.0.0.1:{free_port()}"
    workdir, env = bench_environment(backend, "billing")
    plans = Path(workdir) / "plans.yaml"
    plans.write_text(PLANS)
    env.update(
        {
            "JUNCTION_STRIPE_SECRET_KEY": STRIPE_KEY,
            "JUNCTION_STRIPE_WEBHOOK_SECRET": WEBHOOK_SECRET,
            "JUNCTION_STRIPE_API_URL": stripe_url,
            "JUNCTION_BILLING_PLANS_FILE": str(plans),
        }
    )
    log = (workdir / "localstripe.log").open("ab")
    localstripe = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "localstripe",
            "--port",
            stripe_url.rsplit(":", 1)[1],
            "--from-scratch",
        ],
        cwd=ROOT,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    try:
        wait_until(
            lambda: (
                httpx.get(f"{stripe_url}/v1/customers", auth=(STRIPE_KEY, "")).status_code == 200
            ),
            30,
            "localstripe starting",
        )
        junction(env, "migrate")
        os.environ.update(env)
        figures = asyncio.run(run(*stripe_subscription(stripe_url)))
    finally:
        stop(localstripe)
    print(json.dumps({"benchmark": "billing", "backend": backend, **figures}))


if __name__ == "__main__":
    sys.exit(main())
