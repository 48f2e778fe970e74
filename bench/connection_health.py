"""Benchmark: watching connections and alerting on them, against the amoCRM sandbox.

Runs the amoCRM sandbox (enforcing 7 requests per second per account) and drives
Junction's own cron functions in this process against a fresh database:

1. `CONNECTIONS` amoCRM connections (one sandbox account each, half of them with an
   expired access token) are all due a health check; the cron's function checks them:
   checks per second, with each check's duration (renewal and probe) from the history;
2. every connection then loses its credentials (`needs_reauth`); each workspace has a
   signed webhook channel on a local receiver: how fast the alerts are raised and
   delivered;
3. with nothing due, what one run of each minute cron costs (its idle query).

Prints one JSON object on its last line. `--backend postgres` needs PostgreSQL and Redis
on 127.0.0.1 (a fresh database is created); `embedded` uses SQLite and the embedded Redis.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import sys
import time
import uuid
from datetime import timedelta
from pathlib import Path

import httpx

# The tests' HTTP receiver stands in for the workspaces' webhook endpoints.
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from harness import (
    bench_environment,
    junction,
    pick_backend,
    start_amocrm_sandbox,
    stop,
)

CONNECTIONS = 400
PER_TENANT = 4


async def run(env: dict[str, str], sandbox_url: str) -> dict[str, object]:
    from sqlalchemy import func, select, update

    from junction.alerts.delivery import deliver_due
    from junction.alerts.models import AlertChannel, AlertDelivery, ChannelKind, DeliveryStatus
    from junction.alerts.raising import raise_due_alerts
    from junction.connections.health import check_due_connections
    from junction.connections.models import Connection, ConnectionCheck, ConnectionStatus
    from junction.db.base import utcnow
    from junction.db.tenancy import cross_tenant
    from junction.runtime import open_runtime
    from junction.settings import Settings
    from junction.tenancy.models import Tenant
    from tests.support.receiver import Receiver

    receiver = Receiver()
    receiver.start()
    settings = Settings(_env_file=None, alert_webhooks_to_private_hosts=True)  # type: ignore[call-arg]
    runtime = await open_runtime(settings)
    sandbox = httpx.AsyncClient(base_url=sandbox_url, timeout=30)
    host = (await sandbox.get("/_sandbox/integration")).json()["host"]
    try:
        async with runtime.sessionmaker() as session:
            tenant = None
            for n in range(CONNECTIONS):
                if n % PER_TENANT == 0:
                    tenant = Tenant(id=uuid.uuid4(), slug=f"b{n}", name=f"Bench {n}")
                    session.add(tenant)
                    session.add(
                        AlertChannel(
                            tenant_id=tenant.id,
                            kind=ChannelKind.webhook,
                            name="Pager",
                            target=f"{receiver.url}/hooks/{tenant.slug}",
                            secret_encrypted=runtime.secretbox.encrypt("whsec_bench"),
                        )
                    )
                assert tenant is not None
                made = await sandbox.post("/_sandbox/accounts", json={"name": f"A{n}"})
                account = made.json()["id"]
                tokens = (
                    await sandbox.post(f"/_sandbox/accounts/{account}/tokens", json={})
                ).json()
                expired = n % 2 == 0
                session.add(
                    Connection(
                        tenant_id=tenant.id,
                        provider="amocrm",
                        account_ref=str(account),
                        name=f"amoCRM {n}",
                        secrets_encrypted=runtime.secretbox.encrypt_json(
                            {
                                "access_token": tokens["access_token"],
                                "refresh_token": tokens["refresh_token"],
                            }
                        ),
                        details={"domain": host, "account_id": account},
                        expires_at=utcnow()
                        + (timedelta(hours=-1) if expired else timedelta(days=1)),
                        refreshed_at=utcnow(),
                    )
                )
            await session.commit()

        started = time.perf_counter()
        checked = await check_due_connections(runtime, budget=600)
        checks_s = time.perf_counter() - started
        async with runtime.sessionmaker() as session:
            with cross_tenant(session, "bench: the checks"):
                durations = sorted(
                    (await session.scalars(select(ConnectionCheck.duration_ms))).all()
                )
                healthy = await session.scalar(
                    select(func.count(Connection.id)).where(
                        Connection.status == ConnectionStatus.healthy
                    )
                )
                renewed = await session.scalar(
                    select(func.count(ConnectionCheck.id)).where(ConnectionCheck.refreshed)
                )
        assert checked == CONNECTIONS, checked
        assert healthy == CONNECTIONS, healthy

        async with runtime.sessionmaker() as session:
            with cross_tenant(session, "bench: break every connection"):
                await session.execute(
                    update(Connection).values(status=ConnectionStatus.needs_reauth)
                )
            await session.commit()
        started = time.perf_counter()
        raised = await raise_due_alerts(runtime)
        raise_s = time.perf_counter() - started
        started = time.perf_counter()
        sent = await deliver_due(runtime, budget=600)
        deliver_s = time.perf_counter() - started
        async with runtime.sessionmaker() as session:
            with cross_tenant(session, "bench: deliveries"):
                delivered = await session.scalar(
                    select(func.count(AlertDelivery.id)).where(
                        AlertDelivery.status == DeliveryStatus.sent
                    )
                )
        assert raised == CONNECTIONS, raised
        assert sent == CONNECTIONS == delivered, (sent, delivered)
        assert len(receiver.at("/hooks/")) == CONNECTIONS

        idle: list[float] = []
        for _ in range(20):
            started = time.perf_counter()
            await check_due_connections(runtime)
            await raise_due_alerts(runtime)
            await deliver_due(runtime)
            idle.append((time.perf_counter() - started) * 1000)
    finally:
        await sandbox.aclose()
        await runtime.close()
        receiver.stop()
    return {
        "connections": CONNECTIONS,
        "checks_per_s": round(CONNECTIONS / checks_s, 1),
        "renewed": renewed,
        "check_p50_ms": durations[len(durations) // 2],
        "check_p99_ms": durations[int(len(durations) * 0.99) - 1],
        "alerts_raised_per_s": round(CONNECTIONS / raise_s, 1),
        "alerts_delivered_per_s": round(CONNECTIONS / deliver_s, 1),
        "idle_cron_ms": round(statistics.median(idle), 1),
        # One cron run checks for 45 s a minute: the connections one worker can check
        # hourly, at the rate measured.
        "connections_per_worker_hourly": int(CONNECTIONS / checks_s * 45 * 60),
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--backend", choices=["auto", "postgres", "embedded"], default="auto")
    backend = pick_backend(parser.parse_args().backend)
    workdir, env = bench_environment(backend, "connection-health")
    log = workdir / "processes.log"
    sandbox, sandbox_url = start_amocrm_sandbox(env, log)
    try:
        junction(env, "migrate")
        os.environ.update(env)
        figures = asyncio.run(run(env, sandbox_url))
    finally:
        stop(sandbox)
    print(json.dumps({"benchmark": "connection_health", "backend": backend, **figures}))


if __name__ == "__main__":
    sys.exit(main())
