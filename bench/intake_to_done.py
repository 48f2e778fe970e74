"""Benchmark: webhook intake and end-to-end processing through real processes.

Starts an API (by default on a fresh SQLite file with the embedded Redis; set
JUNCTION_DATABASE_URL / JUNCTION_REDIS_URL to measure PostgreSQL and Redis) and
provisions the demo tenant. Phase 1 posts BENCH_ORDERS deliveries from
BENCH_CONCURRENCY clients with no worker running: intake alone. Phase 2 starts one
worker and times how fast it drains that backlog through the echo plugin.

Figures (last line, JSON): intake throughput and latency of the 202 answers, and the
worker's drain rate.
"""

from __future__ import annotations

import asyncio
import json
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[1]
ORDERS = int(os.environ.get("BENCH_ORDERS", "2000"))
CONCURRENCY = int(os.environ.get("BENCH_CONCURRENCY", "32"))


def _junction(env: dict[str, str], *args: str) -> str:
    return subprocess.run(
        [sys.executable, "-m", "junction", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        check=True,
    ).stdout


def _percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


async def _post_all(base: str, hook: str) -> tuple[list[float], float]:
    latencies: list[float] = []
    queue: asyncio.Queue[int] = asyncio.Queue()
    for n in range(ORDERS):
        queue.put_nowait(n)

    async def client_loop(client: httpx.AsyncClient) -> None:
        while not queue.empty():
            n = queue.get_nowait()
            body = {
                "order_id": f"bench-{n}",
                "customer_id": str(n % 97),
                "total": "10.00",
                "products": [{"sku": "A", "quantity": 1, "price": "10.00"}],
            }
            started = time.perf_counter()
            response = await client.post(
                f"{base}{hook}", json=body, headers={"Idempotency-Key": f"bench-{n}"}
            )
            latencies.append(time.perf_counter() - started)
            if response.status_code != 202:
                raise RuntimeError(f"delivery {n} answered {response.status_code}: {response.text}")

    limits = httpx.Limits(max_connections=CONCURRENCY)
    async with httpx.AsyncClient(limits=limits, timeout=30) as client:
        started = time.perf_counter()
        await asyncio.gather(*(client_loop(client) for _ in range(CONCURRENCY)))
        elapsed = time.perf_counter() - started
    return latencies, elapsed


def _pending(base: str, auth: dict[str, str]) -> bool:
    """Whether any event is still waiting or running (one cheap page per state)."""
    with httpx.Client(timeout=30) as client:
        for status in ("received", "processing", "retrying"):
            page = client.get(
                f"{base}/api/events", params={"status": status, "limit": 1}, headers=auth
            ).json()
            if page["items"]:
                return True
    return False


def _count_done(base: str, auth: dict[str, str]) -> int:
    done, cursor = 0, None
    with httpx.Client(timeout=30) as client:
        while True:
            params: dict[str, str | int] = {"status": "done", "limit": 200}
            if cursor:
                params["before"] = cursor
            page = client.get(f"{base}/api/events", params=params, headers=auth).json()
            done += len(page["items"])
            cursor = page["next_cursor"]
            if not cursor:
                return done


def main() -> None:
    workdir = Path(tempfile.mkdtemp(prefix="junction-bench-"))
    port = 18000 + os.getpid() % 1000
    env = {
        **os.environ,
        "JUNCTION_VAR_DIR": str(workdir),
        "JUNCTION_LOG_LEVEL": "WARNING",
        "JUNCTION_QUEUE_NAME": f"junction:bench:{uuid.uuid4().hex[:8]}",
    }
    database = (
        "postgresql" if env.get("JUNCTION_DATABASE_URL", "").startswith("postgresql") else "sqlite"
    )
    redis_kind = "external" if env.get("JUNCTION_REDIS_URL") else "embedded"
    _junction(env, "migrate")
    applied = _junction(env, "tenants", "apply", "tenants/demo.yaml")
    hook_match = re.search(r"/hooks/\S+", applied)
    assert hook_match is not None
    hook = hook_match.group(0)
    key = _junction(env, "api-keys", "create", "--tenant", "demo", "--name", "bench").strip()
    auth = {"Authorization": f"Bearer {key}"}

    logs = (workdir / "processes.log").open("ab")
    api = subprocess.Popen(
        [sys.executable, "-m", "junction", "api", "--port", str(port)],
        cwd=ROOT,
        env=env,
        stdout=logs,
        stderr=subprocess.STDOUT,
    )
    base = f"http://127.0.0.1:{port}"
    worker: subprocess.Popen[bytes] | None = None
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                if httpx.get(f"{base}/readyz", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError(f"API not ready; see {workdir / 'processes.log'}")
            time.sleep(0.1)
        latencies, intake_seconds = asyncio.run(_post_all(base, hook))
        # The embedded Redis is shared through var/: the worker finds the API's.
        started = time.perf_counter()
        worker = subprocess.Popen(
            [sys.executable, "-m", "junction", "worker"],
            cwd=ROOT,
            env=env,
            stdout=logs,
            stderr=subprocess.STDOUT,
        )
        deadline = time.monotonic() + 600
        while _pending(base, auth):
            if time.monotonic() > deadline:
                raise RuntimeError("events still pending after 600 s")
            time.sleep(0.2)
        drain_seconds = time.perf_counter() - started
        done = _count_done(base, auth)
        if done != ORDERS:
            raise RuntimeError(f"{done} of {ORDERS} events done")
    finally:
        for process in (worker, api):
            if process is not None:
                process.terminate()
                process.wait(timeout=30)

    figures = {
        "benchmark": "intake_to_done",
        "database": database,
        "redis": redis_kind,
        "orders": ORDERS,
        "concurrency": CONCURRENCY,
        "intake_per_second": round(ORDERS / intake_seconds, 1),
        "intake_latency_ms_p50": round(statistics.median(latencies) * 1000, 2),
        "intake_latency_ms_p95": round(_percentile(latencies, 0.95) * 1000, 2),
        "intake_latency_ms_p99": round(_percentile(latencies, 0.99) * 1000, 2),
        # Includes the worker's start-up (about a second).
        "drained_per_second": round(ORDERS / drain_seconds, 1),
    }
    print(json.dumps(figures))


if __name__ == "__main__":
    main()
