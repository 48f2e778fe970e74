"""Benchmark: orders to amoCRM leads through the whole platform, against the sandbox.

    python bench/order_to_lead.py [--backend auto|postgres|embedded]

Runs the amoCRM sandbox (enforcing 7 requests per second per account), the API and a
worker as their own processes, with one tenant whose OpenCart endpoint feeds order →
lead (fields, a note, products). Phases:

1. backlog: BENCH_ORDERS orders (default 2,000, from 20 partners) are delivered while no
   worker runs; then one worker starts. `orders_per_s` is orders done per second from
   the worker's start until the last is done, `amo_calls_per_order` what reached the
   sandbox per order;
2. idle: one more order on the now idle system. `idle_latency_ms` is from its webhook
   until the sandbox holds its lead with the note and the product links.

Prints one JSON object on its last line.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import re
import sys
import time
from typing import Any

import aiohttp
import httpx
from harness import (
    ROOT,
    bench_environment,
    free_port,
    junction,
    pending,
    pick_backend,
    start,
    start_amocrm_sandbox,
    stop,
    wait_until,
)

ORDERS = int(os.environ.get("BENCH_ORDERS", "2000"))
PARTNERS = 20
ORDER = json.loads(
    (ROOT / "plugins/shops/tests/real-payloads/opencart/arastta_getOrder_order18.json").read_text()
)


def manifest(account: dict[str, Any]) -> str:
    def field(entity: str, name: str) -> int:
        found: int = next(f["id"] for f in account[f"{entity}_fields"] if f["name"] == name)
        return found

    pipeline = account["pipelines"][0]
    config = {
        "pipeline_id": pipeline["id"],
        "status_id": pipeline["_embedded"]["statuses"][0]["id"],
        "lead_name": "Order {{ order.id }}",
        "partner": {"contact_field": "contact.cf.partner_id"},
        "amo_fields": {
            "contact.cf.partner_id": field("contact", "Partner ID"),
            "lead.cf.payment_address": field("lead", "Payment address"),
            "lead.cf.order_total": field("lead", "Order total"),
            "lead.cf.order_id": field("lead", "Order ID"),
        },
        "mappings": {
            "billing.address_1": "lead.cf.payment_address",
            "total": "lead.cf.order_total",
        },
        "order_marker_field": "lead.cf.order_id",
    }
    return json.dumps(
        {
            "slug": "bench",
            "name": "Bench shop",
            "installations": [{"plugin": "order_to_lead", "config": config}],
            "endpoints": [{"name": "OpenCart", "source": "opencart", "plugin": "order_to_lead"}],
        }
    )


async def deliver(url: str, orders: list[dict[str, Any]]) -> None:
    connector = aiohttp.TCPConnector(limit=32)
    async with aiohttp.ClientSession(connector=connector) as client:
        pending = iter(orders)

        async def lane() -> None:
            for order in pending:
                async with client.post(url, json=order) as response:
                    if response.status != 202:
                        raise RuntimeError(f"intake answered {response.status}")

        await asyncio.gather(*(lane() for _ in range(32)))


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--backend", choices=["auto", "postgres", "embedded"], default="auto")
    backend = pick_backend(parser.parse_args().backend)
    api_port = free_port()
    base = f"http://127.0.0.1:{api_port}"
    workdir, env = bench_environment(backend, "order-to-lead")
    log = workdir / "processes.log"
    sandbox, sandbox_url = start_amocrm_sandbox(env, log)
    api = worker = None
    try:
        account_id = httpx.post(
            f"{sandbox_url}/_sandbox/accounts", json={"subdomain": "bench", "name": "Bench"}
        ).json()["id"]
        account = httpx.get(f"{sandbox_url}/_sandbox/accounts/{account_id}").json()
        partner_field = next(
            f["id"] for f in account["contact_fields"] if f["name"] == "Partner ID"
        )
        for partner in range(PARTNERS):
            httpx.post(
                f"{sandbox_url}/_sandbox/accounts/{account_id}/contacts",
                json={
                    "name": f"Partner {partner}",
                    "custom_fields_values": [
                        {"field_id": partner_field, "values": [{"value": f"p{partner}"}]}
                    ],
                },
            )
        token = httpx.post(
            f"{sandbox_url}/_sandbox/accounts/{account_id}/long-lived-token", json={}
        ).json()["access_token"]

        junction(env, "migrate")
        manifest_file = workdir / "bench.yaml"
        manifest_file.write_text(manifest(account))
        applied = junction(env, "tenants", "apply", str(manifest_file))
        hook_match = re.search(r"/hooks/\S+", applied)
        assert hook_match is not None
        hook = f"{base}{hook_match.group(0)}"
        key = junction(
            env, "api-keys", "create", "--tenant", "bench", "--name", "bench", "--role", "admin"
        ).strip()
        auth = {"Authorization": f"Bearer {key}"}
        api = start(env, log, "api", "--port", str(api_port))
        wait_until(lambda: httpx.get(f"{base}/readyz").status_code == 200, 60, "the API")
        connected = httpx.post(
            f"{base}/api/connections/amocrm/credentials",
            json={
                "domain": httpx.get(f"{sandbox_url}/_sandbox/integration").json()["host"],
                "access_token": token,
            },
            headers=auth,
            timeout=30,
        )
        if connected.status_code != 201:
            raise RuntimeError(f"connecting amoCRM failed: {connected.text}")

        orders = [
            {**ORDER, "order_id": str(10_000 + n), "customer_id": f"p{n % PARTNERS}"}
            for n in range(ORDERS)
        ]
        asyncio.run(deliver(hook, orders))
        httpx.post(f"{sandbox_url}/_sandbox/stats/reset")

        def leads() -> int:
            state = httpx.get(f"{sandbox_url}/_sandbox/accounts/{account_id}", timeout=30).json()
            return len(state["leads"])

        def done() -> int:
            page = httpx.get(
                f"{base}/api/events", params={"status": "done", "limit": 1}, headers=auth
            ).json()
            return len(page["items"])

        started = time.perf_counter()
        worker = start(env, log, "worker")
        wait_until(
            lambda: leads() >= ORDERS and not pending(base, auth), 1800, "the backlog", every=0.5
        )
        drained = time.perf_counter() - started
        stats = httpx.get(f"{sandbox_url}/_sandbox/stats").json()["accounts"][str(account_id)]

        # One order on the idle system: webhook to lead, note and product links. Its event
        # is done only once amoCRM has answered all three; the sandbox is checked after.
        idle_order = {**ORDER, "order_id": "99999", "customer_id": "p1"}
        posted = time.perf_counter()
        idle = httpx.post(hook, json=idle_order)
        idle.raise_for_status()
        idle_event = idle.json()["event_id"]
        wait_until(
            lambda: (
                httpx.get(f"{base}/api/events/{idle_event}", headers=auth).json()["status"]
                == "done"
            ),
            60,
            "the idle order's lead",
        )
        idle_ms = (time.perf_counter() - posted) * 1000
        state = httpx.get(f"{sandbox_url}/_sandbox/accounts/{account_id}", timeout=60).json()
        lead = next(lead for lead in state["leads"] if lead["name"] == "Order 99999")
        assert any(note["entity_id"] == lead["id"] for note in state["notes"])
        assert any(link["entity_id"] == lead["id"] for link in state["links"])
        assert done() > 0
    finally:
        stop(worker, api, sandbox)

    print(
        json.dumps(
            {
                "benchmark": "order_to_lead",
                "backend": backend,
                "orders": ORDERS,
                "orders_per_s": round(ORDERS / drained, 1),
                "amo_calls_per_order": round(stats["accepted"] / ORDERS, 3),
                "amo_rejected_429": stats["rejected_429"],
                "amo_max_per_second": stats["max_per_second"],
                "idle_latency_ms": round(idle_ms, 1),
            }
        )
    )


if __name__ == "__main__":
    sys.exit(main())
