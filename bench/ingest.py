"""Benchmark: webhook intake throughput and latency, and processing under a backlog.

    python bench/ingest.py [--backend auto|postgres|embedded]

`postgres` uses PostgreSQL and Redis on 127.0.0.1 (a fresh database is created);
`embedded` uses SQLite and the embedded Redis; `auto` picks postgres when both answer.
The API runs in its own process and the load generator in another. Phases:

1. saturation: BENCH_SATURATION deliveries from 64 connections as fast as they are
   taken: `accepted_per_s`;
2. a fixed offered rate of 500 per second for BENCH_RATE_SECONDS: latency measured from
   each request's intended send time, so a slow server cannot hide its queue
   (`p50_ms_at_500`, `p99_ms_at_500`);
3. one worker starts on the backlog both phases left (no worker ran before):
   `processed_per_s` through the echo plugin, which takes batches of up to 50. The
   backlog is one tenant's, so it is paced at JUNCTION_TENANT_DISPATCH_RATE (default
   200 per second; set it in the environment to measure the worker unpaced).

Prints one JSON object on its last line.
"""

from __future__ import annotations

import argparse
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
from typing import Any

import aiohttp
import httpx
from harness import (
    ROOT,
    backend_environment,
    free_port,
    junction,
    pending,
    pick_backend,
    start,
    stop,
    wait_until,
)

SATURATION = int(os.environ.get("BENCH_SATURATION", "3000"))
RATE = 500
RATE_SECONDS = float(os.environ.get("BENCH_RATE_SECONDS", "5"))
# aiohttp, not httpx, generates the load: httpx's own cost caps it near 300 requests/s.
TIMEOUT = aiohttp.ClientTimeout(total=60)
# SQLite takes one writer at a time: more API processes only fight over it.
API_WORKERS = {"postgres": 2, "embedded": 1}


def _percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


# ---- the load generator (its own process) ---------------------------------------------


async def _post(client: aiohttp.ClientSession, url: str, key: str) -> int:
    async with client.post(url, json={"order_id": key}, headers={"Idempotency-Key": key}) as r:
        await r.read()
        return r.status


async def _saturate(url: str, count: int) -> tuple[float, int]:
    errors = 0
    connector = aiohttp.TCPConnector(limit=64)
    async with aiohttp.ClientSession(connector=connector, timeout=TIMEOUT) as client:
        pending = iter(range(count))

        async def lane() -> None:
            nonlocal errors
            for n in pending:
                try:
                    status = await _post(client, url, f"sat-{n}")
                except (aiohttp.ClientError, TimeoutError):
                    errors += 1
                    continue
                if status != 202:
                    errors += 1

        started = time.perf_counter()
        await asyncio.gather(*(lane() for _ in range(64)))
        return (count - errors) / (time.perf_counter() - started), errors


async def _fixed_rate(url: str, rate: int, seconds: float) -> tuple[list[float], int]:
    latencies: list[float] = []
    errors = 0
    connector = aiohttp.TCPConnector(limit=256)
    async with aiohttp.ClientSession(connector=connector, timeout=TIMEOUT) as client:
        start = time.perf_counter() + 0.2

        async def one(n: int) -> None:
            nonlocal errors
            intended = start + n / rate
            delay = intended - time.perf_counter()
            if delay > 0:
                await asyncio.sleep(delay)
            try:
                status = await _post(client, url, f"rate-{n}")
            except (aiohttp.ClientError, TimeoutError):
                errors += 1
                return
            latencies.append(time.perf_counter() - intended)
            if status != 202:
                errors += 1

        await asyncio.gather(*(one(n) for n in range(int(rate * seconds))))
    return latencies, errors


def load_generator(url: str) -> None:
    accepted, saturation_errors = asyncio.run(_saturate(url, SATURATION))
    latencies, errors = asyncio.run(_fixed_rate(url, RATE, RATE_SECONDS))
    print(
        json.dumps(
            {
                "accepted_per_s": round(accepted, 1),
                "p50_ms_at_500": round(statistics.median(latencies) * 1000, 1),
                "p99_ms_at_500": round(_percentile(latencies, 0.99) * 1000, 1),
                "errors_at_500": errors,
                "errors_saturated": saturation_errors,
            }
        )
    )


# ---- the orchestration -----------------------------------------------------------------


def _count(base: str, auth: dict[str, str], status: str) -> int:
    total, cursor = 0, None
    while True:
        params: dict[str, str | int] = {"status": status, "limit": 200}
        if cursor:
            params["before"] = cursor
        page = httpx.get(f"{base}/api/events", params=params, headers=auth, timeout=60).json()
        total += len(page["items"])
        cursor = page["next_cursor"]
        if not cursor:
            return total


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--backend", choices=["auto", "postgres", "embedded"], default="auto")
    parser.add_argument("--load-generator", metavar="URL")
    args = parser.parse_args()
    if args.load_generator:
        load_generator(args.load_generator)
        return
    backend = pick_backend(args.backend)
    workdir = Path(tempfile.mkdtemp(prefix="junction-ingest-"))
    env = {
        **os.environ,
        "JUNCTION_VAR_DIR": str(workdir),
        "JUNCTION_LOG_LEVEL": os.environ.get("BENCH_LOG_LEVEL", "WARNING"),
        "JUNCTION_QUEUE_NAME": f"junction:bench:{uuid.uuid4().hex[:8]}",
    }
    env = backend_environment(backend, env)
    junction(env, "migrate")
    hook_match = re.search(r"/hooks/\S+", junction(env, "tenants", "apply", "tenants/demo.yaml"))
    assert hook_match is not None
    key = junction(env, "api-keys", "create", "--tenant", "demo", "--name", "bench").strip()
    auth = {"Authorization": f"Bearer {key}"}
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    log = workdir / "processes.log"
    api = start(env, log, "api", "--port", str(port), "--workers", str(API_WORKERS[backend]))
    worker: subprocess.Popen[bytes] | None = None
    try:
        wait_until(lambda: httpx.get(f"{base}/readyz", timeout=1).status_code == 200, 60, "the API")
        generated = subprocess.run(
            [sys.executable, __file__, "--load-generator", f"{base}{hook_match.group(0)}"],
            cwd=ROOT,
            capture_output=True,
            text=True,
        )
        if generated.returncode != 0:
            raise RuntimeError(f"the load generator failed: {generated.stderr[-1500:]}")
        intake: dict[str, Any] = json.loads(generated.stdout.strip().splitlines()[-1])
        started = time.perf_counter()
        worker = start(env, log, "worker")
        wait_until(lambda: not pending(base, auth), 900, "the backlog draining", every=0.5)
        drained = time.perf_counter() - started
        done = _count(base, auth, "done")
        processed_per_s = done / drained
    finally:
        stop(worker, api)

    print(
        json.dumps(
            {
                "benchmark": "ingest",
                "backend": backend,
                "accepted_per_s": intake["accepted_per_s"],
                "p50_ms_at_500": intake["p50_ms_at_500"],
                "p99_ms_at_500": intake["p99_ms_at_500"],
                "processed_per_s": round(processed_per_s, 1),
                "errors_at_500": intake["errors_at_500"],
                "errors_saturated": intake["errors_saturated"],
                "events": done,
                "api_workers": API_WORKERS[backend],
            }
        )
    )


if __name__ == "__main__":
    main()
