"""Benchmark: MobCash deposits through Junction's processing, against the MobCash sandbox.

Runs the MobCash sandbox and drives `process_event` in this process against a fresh
database: `DEPOSITS` deposit requests of one workspace (a cash-desk connection), eight
processed at a time. Reports deposits per second and each deposit's time (player check,
checkpoint, deposit, result), checks that the sandbox made each exactly once, then
replays them all and checks that no money moved again.

Prints one JSON object on its last line. `--backend postgres` needs PostgreSQL and Redis
on 127.0.0.1 (a fresh database is created); `embedded` uses SQLite and the embedded Redis.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import secrets
import statistics
import sys
import time
import uuid

import httpx
from harness import (
    bench_environment,
    free_port,
    junction,
    pick_backend,
    start,
    stop,
    wait_until,
)

DEPOSITS = 400
AT_ONCE = 8


async def run(sandbox_url: str) -> dict[str, object]:
    from sqlalchemy import func, select

    from junction.audit.models import ActorType
    from junction.connections.service import save_connection
    from junction.db.tenancy import cross_tenant, scope_to_tenant
    from junction.events.models import Event, EventStatus
    from junction.events.processing import process_event
    from junction.events.replay import ReplayFilter, replay
    from junction.intake.models import InboundEndpoint
    from junction.plugins.models import PluginInstallation
    from junction.runtime import open_runtime
    from junction.settings import Settings
    from junction.tenancy.models import Tenant

    runtime = await open_runtime(Settings())
    sandbox = httpx.AsyncClient(base_url=sandbox_url, timeout=30)
    try:
        cashbox = (await sandbox.post("/_sandbox/cashboxes", json={"balance": "10000000"})).json()
        player = (await sandbox.post("/_sandbox/players", json={"nickname": "bench"})).json()["id"]
        tenant_id = uuid.uuid4()
        new = await runtime.registry.providers["mobcash"].connect_with_credentials(
            {
                "mode": "cashbox",
                "base_url": sandbox_url,
                "location": "Bench",
                "cashbox_code": cashbox["code"],
                "login": cashbox["login"],
                "password": cashbox["password"],
            }
        )
        async with runtime.sessionmaker() as session:
            session.add(Tenant(id=tenant_id, slug="bench", name="Bench"))
            installation = PluginInstallation(tenant_id=tenant_id, plugin="mobcash", config={})
            session.add(installation)
            await session.flush()
            endpoint = InboundEndpoint(
                tenant_id=tenant_id,
                installation_id=installation.id,
                name="Deposits",
                source_format="mobcash-deposit",
                token_hash=secrets.token_hex(32),
                token_encrypted=runtime.secretbox.encrypt(secrets.token_urlsafe(24)),
            )
            session.add(endpoint)
            await session.flush()
            ids = []
            for n in range(DEPOSITS):
                event = Event(
                    tenant_id=tenant_id,
                    endpoint_id=endpoint.id,
                    idempotency_key=f"deposit:b{n}",
                    payload={"request_id": f"b{n}", "payer_id": player, "amount": "10.00"},
                )
                session.add(event)
                ids.append(event)
            await session.commit()
            ids = [event.id for event in ids]
        await save_connection(
            runtime.sessionmaker(),
            runtime.secretbox,
            tenant_id,
            "mobcash",
            new,
            actor_type=ActorType.system,
            actor_id="bench",
        )

        async def deposits_made() -> int:
            desk = (await sandbox.get(f"/_sandbox/cashboxes/{cashbox['code']}")).json()
            return len(desk["deposits"])

        durations: list[float] = []
        lanes = asyncio.Semaphore(AT_ONCE)

        async def one(event_id: uuid.UUID) -> None:
            async with lanes:
                started = time.perf_counter()
                await process_event(runtime, tenant_id, event_id)
                durations.append((time.perf_counter() - started) * 1000)

        started = time.perf_counter()
        await asyncio.gather(*(one(event_id) for event_id in ids))
        elapsed = time.perf_counter() - started
        async with runtime.sessionmaker() as session:
            with cross_tenant(session, "bench: outcomes"):
                done = await session.scalar(
                    select(func.count(Event.id)).where(Event.status == EventStatus.done)
                )
        made = await deposits_made()
        assert done == DEPOSITS, done
        assert made == DEPOSITS, made

        async with runtime.sessionmaker() as session:
            scope_to_tenant(session, tenant_id)
            replayed = await replay(session, runtime.queue, ReplayFilter(status=EventStatus.done))
        started = time.perf_counter()
        await asyncio.gather(*(one(event_id) for event_id in ids))
        replay_elapsed = time.perf_counter() - started
        again = len(
            (await sandbox.get(f"/_sandbox/cashboxes/{cashbox['code']}")).json()["deposits"]
        )
        assert replayed == DEPOSITS, replayed
        assert again == DEPOSITS, again
    finally:
        await sandbox.aclose()
        await runtime.close()
    durations.sort()
    first = durations[:DEPOSITS]
    return {
        "deposits": DEPOSITS,
        "deposits_per_s": round(DEPOSITS / elapsed, 1),
        "deposit_p50_ms": round(statistics.median(first), 1),
        "deposit_p99_ms": round(first[int(len(first) * 0.99) - 1], 1),
        "deposits_made": made,
        "replays_per_s": round(DEPOSITS / replay_elapsed, 1),
        "deposits_after_replay": again,
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--backend", choices=["auto", "postgres", "embedded"], default="auto")
    backend = pick_backend(parser.parse_args().backend)
    sandbox_url = f"http://127.0.0.1:{free_port()}"
    workdir, env = bench_environment(
        backend, "deposits", {"JUNCTION_MOBCASH_EXTRA_HOSTS": sandbox_url}
    )
    log = workdir / "processes.log"
    sandbox = start(env, log, "sandbox", "mobcash", "--port", sandbox_url.rsplit(":", 1)[1])
    try:
        wait_until(
            lambda: httpx.get(f"{sandbox_url}/_sandbox/stats").status_code == 200,
            30,
            "the sandbox starting",
        )
        junction(env, "migrate")
        os.environ.update(env)
        figures = asyncio.run(run(sandbox_url))
    finally:
        stop(sandbox)
    print(json.dumps({"benchmark": "deposits", "backend": backend, **figures}))


if __name__ == "__main__":
    sys.exit(main())
