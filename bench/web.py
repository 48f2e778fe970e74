"""Benchmark: the web app, as a tenant's browser uses it.

Builds nothing: measures `frontend/dist` (run `make web` first) served by one API process
on a fresh database, with a workspace signed up through the API (email to a local
capture server) holding `EVENTS` events:

1. what the browser downloads: the built JavaScript and CSS, raw and gzipped;
2. in Chromium (the system's): a cold load of the log-in page until its form shows; the
   Events page until its first 100 rows show; the order → lead configuration form until
   its fields show (each the median and the slowest of `RUNS` loads);
3. the API calls the open pages repeat (the events list every 3 s, the checklist every
   5 s): their latency over `CALLS` calls each.

Prints one JSON object on its last line. `--backend postgres` needs PostgreSQL and Redis
on 127.0.0.1 (a fresh database is created); `embedded` uses SQLite and the embedded Redis.
"""

from __future__ import annotations

import argparse
import asyncio
import gzip
import json
import re
import shutil
import statistics
import sys
import time
import uuid
from pathlib import Path
from typing import Any

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from harness import (
    ROOT,
    bench_environment,
    free_port,
    junction,
    pick_backend,
    start,
    stop,
    wait_until,
)

EVENTS = 10_000
RUNS = 15
CALLS = 200
PASSWORD = "a long benchmark password"


def bundle() -> dict[str, float]:
    """Kilobytes of what a first visit downloads (the source maps are not downloaded)."""
    assets = ROOT / "frontend" / "dist" / "assets"
    if not assets.is_dir():
        raise SystemExit("the web app is not built: run `make web` first")
    sizes: dict[str, float] = {}
    for kind in ("js", "css"):
        files = [path.read_bytes() for path in assets.glob(f"*.{kind}")]
        sizes[f"{kind}_kb"] = round(sum(len(data) for data in files) / 1024, 1)
        sizes[f"{kind}_gzip_kb"] = round(sum(len(gzip.compress(data)) for data in files) / 1024, 1)
    return sizes


def percentiles(samples: list[float]) -> dict[str, float]:
    ordered = sorted(samples)
    return {
        "p50_ms": round(statistics.median(ordered), 1),
        "p99_ms": round(ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))], 1),
        "max_ms": round(ordered[-1], 1),
    }


def sign_up(base: str, mail: Any) -> tuple[str, httpx.Client]:
    """A confirmed account with its own workspace, and an API client logged in as it."""
    from tests.support.mail import link_token, mail_to

    email = f"bench-{uuid.uuid4().hex[:8]}@example.com"
    made = httpx.post(
        f"{base}/api/auth/signup",
        json={"email": email, "password": PASSWORD, "workspace": "Bench shop"},
        timeout=30,
    )
    made.raise_for_status()
    token = link_token(mail_to(mail, email, "confirm"))
    httpx.post(
        f"{base}/api/auth/verify-email", json={"token": token}, timeout=30
    ).raise_for_status()
    client = httpx.Client(base_url=base, timeout=60)
    logged = client.post("/api/auth/login", json={"email": email, "password": PASSWORD})
    logged.raise_for_status()
    client.headers["X-CSRF-Token"] = logged.json()["csrf_token"]
    return email, client


def fill(client: httpx.Client) -> tuple[str, str]:
    """`EVENTS` orders delivered to the workspace's echo URL; the order → lead installation."""
    installations = {i["plugin"]: i["id"] for i in client.get("/api/installations").json()}
    made = client.post(
        "/api/endpoints",
        json={"name": "Bench", "source_format": "echo", "installation_id": installations["echo"]},
    )
    made.raise_for_status()
    url = made.json()["url"]

    async def deliver() -> None:
        async with httpx.AsyncClient(timeout=60) as hooks:
            for first in range(0, EVENTS, 200):
                answers = await asyncio.gather(
                    *(
                        hooks.post(url, json={"order_id": f"B-{n}", "total": "10"})
                        for n in range(first, min(first + 200, EVENTS))
                    )
                )
                assert all(answer.status_code == 202 for answer in answers)

    asyncio.run(deliver())
    return url, installations["order_to_lead"]


def api_latency(client: httpx.Client) -> dict[str, Any]:
    def timed(call: Any) -> list[float]:
        samples = []
        for _ in range(CALLS):
            started = time.perf_counter()
            call().raise_for_status()
            samples.append((time.perf_counter() - started) * 1000)
        return samples

    events = timed(lambda: client.get("/api/events", params={"limit": 100}))
    checklist = []
    for _ in range(CALLS):
        started = time.perf_counter()
        for path in ("/api/connections", "/api/endpoints", "/api/installations"):
            client.get(path).raise_for_status()
        client.get("/api/events", params={"limit": 50}).raise_for_status()
        checklist.append((time.perf_counter() - started) * 1000)
    return {"events_list": percentiles(events), "checklist_refresh": percentiles(checklist)}


async def in_chromium(base: str, email: str, installation_id: str) -> dict[str, Any]:
    from playwright.async_api import async_playwright

    found = shutil.which("chromium") or shutil.which("chromium-browser")
    if found is None:
        raise SystemExit("Chromium is not installed (`make test` installs it)")
    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(
            executable_path=found, args=["--no-sandbox", "--disable-dev-shm-usage"]
        )
        login, events, form = [], [], []
        for _ in range(RUNS):
            # A cold load: a new context has no cache.
            context = await browser.new_context(locale="en")
            page = await context.new_page()
            started = time.perf_counter()
            await page.goto(f"{base}/app/login")
            await page.get_by_role("button", name="Log in").wait_for()
            login.append((time.perf_counter() - started) * 1000)
            await context.close()

        context = await browser.new_context(locale="en")
        page = await context.new_page()
        await page.goto(f"{base}/app/login")
        await page.get_by_label(re.compile("^Email")).fill(email)
        await page.get_by_label(re.compile("^Password")).fill(PASSWORD)
        await page.get_by_role("button", name="Log in").click()
        await page.get_by_role("heading", name="Getting started").wait_for()
        for _ in range(RUNS):
            started = time.perf_counter()
            await page.goto(f"{base}/app/events")
            await page.locator("tr[data-event]").nth(99).wait_for()
            events.append((time.perf_counter() - started) * 1000)
            started = time.perf_counter()
            await page.goto(f"{base}/app/plugins/{installation_id}")
            await page.get_by_role("button", name="Save").wait_for()
            form.append((time.perf_counter() - started) * 1000)
        await browser.close()
    return {
        "login_page_cold": percentiles(login),
        "events_page_100_rows": percentiles(events),
        "plugin_form": percentiles(form),
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--backend", choices=["auto", "postgres", "embedded"], default="auto")
    args = parser.parse_args()
    backend = pick_backend(args.backend)
    sizes = bundle()

    from junction.accounts.capture import MailCapture

    mail = MailCapture()
    mail.start()
    workdir, env = bench_environment(
        backend,
        "web",
        {
            "JUNCTION_SMTP_URL": mail.url,
            "JUNCTION_NEW_WORKSPACE_PLUGINS": "echo,order_to_lead",
        },
    )
    junction(env, "migrate")
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    env["JUNCTION_PUBLIC_BASE_URL"] = base
    api = start(env, workdir / "processes.log", "api", "--port", str(port))
    try:
        wait_until(lambda: httpx.get(f"{base}/readyz", timeout=1).status_code == 200, 60, "the API")
        email, client = sign_up(base, mail)
        started = time.perf_counter()
        _, installation_id = fill(client)
        delivered = time.perf_counter() - started
        latency = api_latency(client)
        browser = asyncio.run(in_chromium(base, email, installation_id))
    finally:
        stop(api)
        mail.stop()
    print(
        json.dumps(
            {
                "benchmark": "web",
                "backend": backend,
                "events_in_workspace": EVENTS,
                "events_delivered_per_second": round(EVENTS / delivered, 1),
                "bundle": sizes,
                "browser": browser,
                "api": latency,
            }
        )
    )


if __name__ == "__main__":
    main()
