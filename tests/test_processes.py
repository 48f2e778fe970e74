"""Real API and worker processes: nothing accepted is lost when a worker dies."""

from __future__ import annotations

import asyncio
import os
import re
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import redis

from tests.support.backends import Databases
from tests.support.processes import (
    ROOT,
    Junction,
    all_done,
    event_of,
    free_port,
    fresh_junction,
    post_order,
    provision,
    wait_for,
)

pytestmark = [pytest.mark.processes, pytest.mark.slice]


@pytest.fixture
async def junction(databases: Databases, redis_url: str, tmp_path: Path) -> AsyncIterator[Junction]:
    junction = await fresh_junction(
        databases,
        redis_url,
        tmp_path,
        {
            "JUNCTION_EVENT_LEASE_SECONDS": "8",
            "JUNCTION_SWEEP_INTERVAL_SECONDS": "1",
            "JUNCTION_RETRY_SCHEDULE_SECONDS": "1,1",
        },
    )
    yield junction
    junction.stop()


def test_killing_the_worker_mid_attempt_loses_nothing(junction: Junction) -> None:
    hook, auth = provision(junction)
    junction.start_api()
    junction.start_worker()

    first = [post_order(junction, hook, f"before-{n}") for n in range(5)]
    wait_for(lambda: all_done(junction, auth, first), timeout=30, what="the first events")

    stuck = post_order(junction, hook, "stuck", echo_stall=120)
    wait_for(
        lambda: event_of(junction, auth, stuck)["status"] == "processing",
        timeout=30,
        what="the worker to start on the stalled event",
    )
    junction.kill_worker()

    # The API keeps accepting while no worker runs.
    during = [post_order(junction, hook, f"during-{n}") for n in range(20)]
    assert all(event_of(junction, auth, event_id)["status"] == "received" for event_id in during)

    junction.start_worker()
    everything = [*first, stuck, *during]
    wait_for(
        lambda: all_done(junction, auth, everything),
        timeout=60,
        what=f"every event to be done; worker log:\n{junction.read_log('worker-2')}",
    )

    attempts = event_of(junction, auth, stuck)["attempt_log"]
    assert [a["outcome"] for a in attempts] == [None, "done"]  # attempt 1 died with its worker


def test_jobs_lost_by_redis_are_recovered_by_the_sweeper(
    junction: Junction, redis_url: str
) -> None:
    hook, auth = provision(junction)
    junction.start_api()
    ids = [post_order(junction, hook, f"lost-{n}") for n in range(10)]
    # No worker yet: drop every queued job, as a Redis restart would.
    client = redis.Redis.from_url(redis_url)
    assert client.delete(junction.env["JUNCTION_QUEUE_NAME"]) == 1
    client.close()
    junction.start_worker()
    wait_for(
        lambda: all_done(junction, auth, ids), timeout=60, what="the sweeper to recover the events"
    )


def test_retries_then_dead_letter_through_real_processes(junction: Junction) -> None:
    hook, auth = provision(junction)
    junction.start_api()
    junction.start_worker()
    flaky = post_order(junction, hook, "flaky", echo_fail=1)
    doomed = post_order(junction, hook, "doomed", echo_fail="retry")
    wait_for(
        lambda: event_of(junction, auth, flaky)["status"] == "done", timeout=30, what="the retry"
    )
    wait_for(
        lambda: event_of(junction, auth, doomed)["status"] == "failed",
        timeout=30,
        what="the dead letter",
    )
    assert [a["outcome"] for a in event_of(junction, auth, flaky)["attempt_log"]] == [
        "retrying",
        "done",
    ]
    dead = event_of(junction, auth, doomed)
    assert dead["attempts"] == 3
    assert dead["last_error"].startswith("gave up after 3 failed attempts")


def test_make_demo_serves_the_printed_curl(tmp_path: Path) -> None:
    port = free_port()
    env = {key: value for key, value in os.environ.items() if not key.startswith("JUNCTION_")}
    env["JUNCTION_VAR_DIR"] = str(tmp_path / "var")
    demo = subprocess.Popen(
        [sys.executable, "-m", "junction", "demo", "--port", str(port)],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    try:
        assert demo.stdout is not None
        lines: list[str] = []
        for line in demo.stdout:
            lines.append(line)
            if "Press Ctrl-C" in line:
                break
        printed = "".join(lines)
        curls = [line.strip() for line in lines if line.strip().startswith("curl -X POST")]
        key = re.search(r"API key:\s+(\S+)", printed)
        assert key is not None
        # Every plugin's sandbox runs, and its provider is connected through consent.
        assert "Connected:    amoCRM: Sandbox Shop (sandbox at http://127.0.0.1:" in printed
        auth = {"Authorization": f"Bearer {key.group(1)}"}
        base = f"http://127.0.0.1:{port}"

        def send(curl: str) -> str:
            posted = subprocess.run(
                curl + " -s -w '\\n%{http_code}'",
                shell=True,
                capture_output=True,
                text=True,
                check=True,
                cwd=tmp_path,
            )
            body, status = posted.stdout.rsplit("\n", 1)
            assert status == "202", posted.stdout
            event_id: str = httpx.Response(200, content=body).json()["event_id"]
            return event_id

        def done(event_id: str) -> dict[str, Any]:
            def check() -> dict[str, Any] | None:
                event = httpx.get(f"{base}/api/events/{event_id}", headers=auth).json()
                return event if event["status"] in ("done", "failed") else None

            settled: dict[str, Any] = wait_for(check, timeout=15, what="the demo event to settle")
            assert settled["status"] == "done", settled["last_error"]
            return settled

        echo_curl, opencart_curl = curls
        assert done(send(echo_curl))["result"]["echo"] == {
            "order_id": "1001",
            "customer_id": "42",
            "total": "99.50",
        }
        # The sample OpenCart order becomes a lead on partner 1's contact in the sandbox.
        lead = done(send(opencart_curl))["result"]
        assert lead["order_id"] == "1001"
        assert lead["lead_id"] > 0
        assert lead["products_linked"] == 1
        # "Send a test order" from the web app: the format's sample, on partner 700100.
        [opencart] = [
            e
            for e in httpx.get(f"{base}/api/endpoints", headers=auth).json()
            if e["source_format"] == "opencart"
        ]
        sent = httpx.post(f"{base}/api/endpoints/{opencart['id']}/test-order", headers=auth)
        assert sent.status_code == 202, sent.text
        assert done(sent.json()["event_id"])["result"]["lead_id"] > 0
    finally:
        demo.send_signal(signal.SIGINT)
        demo.wait(timeout=30)
    assert demo.returncode == 0
    assert not (tmp_path / "var" / "redis" / "url").exists()
    with pytest.raises(httpx.ConnectError):
        httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=1)


async def test_one_tenants_backlog_does_not_hold_back_another_tenant(
    junction: Junction, databases: Databases
) -> None:
    from sqlalchemy import func, select

    from junction.db.session import create_engine, create_sessionmaker
    from junction.db.tenancy import cross_tenant
    from junction.events.models import Event, EventStatus
    from junction.events.queueing import EventQueue
    from junction.intake.models import InboundEndpoint
    from junction.intake.tokens import hash_endpoint_token
    from junction.plugins.models import PluginInstallation
    from junction.runtime import connect_redis
    from junction.tenancy.models import Tenant

    hook, auth = provision(junction)
    engine = create_engine(junction.env["JUNCTION_DATABASE_URL"])
    sessionmaker = create_sessionmaker(engine)
    flood_tenant = uuid.uuid4()
    try:
        # Another tenant's backlog of 5,000 orders to its own echo installation, stored
        # and queued as intake would.
        async with sessionmaker() as session:
            session.add(Tenant(id=flood_tenant, slug="flood", name="Flood"))
            installation = PluginInstallation(tenant_id=flood_tenant, plugin="echo", config={})
            session.add(installation)
            await session.flush()
            endpoint = InboundEndpoint(
                tenant_id=flood_tenant,
                name="flood",
                token_hash=hash_endpoint_token("flood-token"),
                token_encrypted="(not shown in this test)",
                source_format="echo",
                installation_id=installation.id,
            )
            session.add(endpoint)
            await session.flush()
            backlog = [
                Event(
                    id=uuid.uuid4(),
                    tenant_id=flood_tenant,
                    endpoint_id=endpoint.id,
                    idempotency_key=f"flood-{n}",
                    payload={"order_id": n},
                )
                for n in range(5000)
            ]
            session.add_all(backlog)
            await session.commit()
        queue = EventQueue(
            connect_redis(junction.env["JUNCTION_REDIS_URL"]), junction.env["JUNCTION_QUEUE_NAME"]
        )
        for event in backlog:
            await queue.enqueue(flood_tenant, event.id, 0)
        await queue.close()

        junction.start_api()
        junction.start_worker()

        async def flood_done() -> int:
            async with sessionmaker() as session:
                with cross_tenant(session, "test: the flood's progress"):
                    done = await session.scalar(
                        select(func.count())
                        .select_from(Event)
                        .where(Event.tenant_id == flood_tenant, Event.status == EventStatus.done)
                    )
            return int(done or 0)

        # The worker is busy with the flood before the single order arrives.
        under_way = time.monotonic() + 60
        while await flood_done() == 0:
            assert time.monotonic() < under_way, "the flood never got under way"
            await asyncio.sleep(0.1)
        posted = time.monotonic()
        single = post_order(junction, hook, "the-single-order")
        wait_for(
            lambda: event_of(junction, auth, single)["status"] == "done",
            timeout=60,
            what="the other tenant's single order",
        )
        waited = time.monotonic() - posted
        # The single order did not wait for the flood to drain.
        # SQLite takes one writer at a time, and the flood's batches are writing too.
        limit = 10 if junction.env["JUNCTION_DATABASE_URL"].startswith("sqlite") else 5
        assert waited < limit, f"the single order took {waited:.1f} s"
        assert await flood_done() < 5000
    finally:
        await engine.dispose()


def test_a_delivery_posted_a_thousand_times_at_once_is_one_event_and_one_call(
    junction: Junction,
) -> None:

    hook, auth = provision(junction)
    junction.start_api()
    junction.start_worker()

    async def post_all() -> list[httpx.Response]:
        limits = httpx.Limits(max_connections=50)
        async with httpx.AsyncClient(base_url=junction.base, limits=limits, timeout=60) as client:
            body = {"order_id": "same-order", "total": "10"}

            async def deliver() -> httpx.Response:
                # As a shop does, a delivery that got no answer at all is sent again.
                for attempt in range(3):
                    try:
                        return await client.post(
                            hook, json=body, headers={"Idempotency-Key": "same-order"}
                        )
                    except httpx.TransportError:
                        if attempt == 2:
                            raise
                raise AssertionError("unreachable")

            return await asyncio.gather(*(deliver() for _ in range(1000)))

    responses = asyncio.run(post_all())
    statuses = [response.status_code for response in responses]
    assert statuses.count(202) == 1
    assert statuses.count(200) == 999
    event_ids = {response.json()["event_id"] for response in responses}
    assert len(event_ids) == 1
    [event_id] = event_ids
    event = wait_for(
        lambda: (e := event_of(junction, auth, event_id))["status"] == "done" and e,
        timeout=30,
        what="the one event",
    )
    # One plugin call: one attempt, and the events list holds this event once.
    assert [a["outcome"] for a in event["attempt_log"]] == ["done"]
    listed = httpx.get(
        f"{junction.base}/api/events", params={"key": "same-order"}, headers=auth
    ).json()
    assert [item["id"] for item in listed["items"]] == [event_id]
