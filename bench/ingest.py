"""Benchmark: webhook intake throughput and latency, and processing under a backlog.

    python bench/ingest.py [--backend auto|postgres|embedded]

`postgres` uses PostgreSQL and Redis on 127.0.0.1 (a fresh database is created);
`embedded` uses SQLite and the embedded Redis; `auto` picks postgres when both answer.
The API runs in its own process and the load generator in another. Phases:

1. saturation: BENCH_SATURATION deliveries over 64 connections as fast as they are
   taken: `accepted_per_s`;
2. a fixed offered rate of 500 per second for BENCH_RATE_SECONDS: latency measured from
   each request's intended send time, so a slow server cannot hide its queue
   (`p50_ms_at_500`, `p99_ms_at_500`);
3. the worker starts on the backlog both phases left (no worker ran before; two
   processes on PostgreSQL, one on SQLite):
   `processed_per_s` through the echo plugin, which takes batches of up to 50: events
   done over the time from the first attempt's start to the last event's finish, read
   from the database. `drain_s` is the whole wait, the worker's start-up included. The
   backlog is one tenant's: its jobs are paced at JUNCTION_TENANT_DISPATCH_RATE, and a
   full batch starts the next ones at once.

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
from urllib.parse import urlsplit

import httpx
import uvloop
from harness import (
    ROOT,
    backend_environment,
    free_port,
    junction,
    pending,
    pick_backend,
    processing_span,
    start,
    stop,
    wait_until,
)

SATURATION = int(os.environ.get("BENCH_SATURATION", "3000"))
RATE = 500
RATE_SECONDS = float(os.environ.get("BENCH_RATE_SECONDS", "5"))
# Connections the load generator keeps open at once.
LANES = 64
# SQLite takes one writer at a time: more processes only fight over it. On PostgreSQL,
# a process per core, for the API and then for the worker.
API_WORKERS = {"postgres": 2, "embedded": 1}
WORKER_PROCESSES = {"postgres": 2, "embedded": 1}


def _percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


# ---- the load generator (its own process) ---------------------------------------------
# Plain HTTP/1.1 over keep-alive connections on uvloop: a general-purpose client (aiohttp,
# httpx) costs more CPU per request than the API does, and both share the machine's cores.


class _Connection:
    """One keep-alive connection that sends a delivery and reads the answer's status."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader = reader
        self.writer = writer

    @classmethod
    async def open(cls, host: str, port: int) -> _Connection:
        reader, writer = await asyncio.open_connection(host, port)
        return cls(reader, writer)

    async def post(self, request: bytes) -> int:
        self.writer.write(request)
        head = await self.reader.readuntil(b"\r\n\r\n")
        status = int(head[9:12])
        length = 0
        for line in head.split(b"\r\n")[1:]:
            name, _, value = line.partition(b":")
            if name.strip().lower() == b"content-length":
                length = int(value)
        if length:
            await self.reader.readexactly(length)
        return status

    def close(self) -> None:
        self.writer.close()


def _request(host: str, port: int, path: str, key: str) -> bytes:
    body = json.dumps({"order_id": key}).encode()
    return (
        f"POST {path} HTTP/1.1\r\nHost: {host}:{port}\r\n"
        f"Content-Type: application/json\r\nIdempotency-Key: {key}\r\n"
        f"Content-Length: {len(body)}\r\n\r\n"
    ).encode() + body


async def _saturate(url: str, count: int) -> tuple[float, int]:
    target = urlsplit(url)
    host, port = target.hostname or "127.0.0.1", target.port or 80
    requests = [_request(host, port, target.path, f"sat-{n}") for n in range(count)]
    errors = 0
    pending = iter(requests)

    async def lane() -> None:
        nonlocal errors
        connection = await _Connection.open(host, port)
        try:
            for request in pending:
                try:
                    status = await connection.post(request)
                except (OSError, asyncio.IncompleteReadError):
                    errors += 1
                    connection = await _Connection.open(host, port)
                    continue
                if status != 202:
                    errors += 1
        finally:
            connection.close()

    started = time.perf_counter()
    await asyncio.gather(*(lane() for _ in range(LANES)))
    return (count - errors) / (time.perf_counter() - started), errors


async def _fixed_rate(url: str, rate: int, seconds: float) -> tuple[list[float], int]:
    target = urlsplit(url)
    host, port = target.hostname or "127.0.0.1", target.port or 80
    total = int(rate * seconds)
    requests = [_request(host, port, target.path, f"rate-{n}") for n in range(total)]
    latencies: list[float] = []
    errors = 0
    idle: list[_Connection] = [await _Connection.open(host, port) for _ in range(LANES)]
    start = time.perf_counter() + 0.2

    async def one(n: int) -> None:
        nonlocal errors
        intended = start + n / rate
        delay = intended - time.perf_counter()
        if delay > 0:
            await asyncio.sleep(delay)
        # A free connection if there is one, else a new one: a slow answer never holds
        # up the next request's send time.
        connection = idle.pop() if idle else await _Connection.open(host, port)
        try:
            status = await connection.post(requests[n])
        except (OSError, asyncio.IncompleteReadError):
            errors += 1
            connection.close()
            return
        latencies.append(time.perf_counter() - intended)
        idle.append(connection)
        if status != 202:
            errors += 1

    await asyncio.gather(*(one(n) for n in range(total)))
    for connection in idle:
        connection.close()
    return latencies, errors


def load_generator(url: str) -> None:
    accepted, saturation_errors = uvloop.run(_saturate(url, SATURATION))
    latencies, errors = uvloop.run(_fixed_rate(url, RATE, RATE_SECONDS))
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
    workers: list[subprocess.Popen[bytes]] = []
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
        workers = [start(env, log, "worker") for _ in range(WORKER_PROCESSES[backend])]
        wait_until(lambda: not pending(base, auth), 900, "the backlog draining", every=0.5)
        drained = time.perf_counter() - started
        listed = _count(base, auth, "done")
    finally:
        stop(*workers, api)
    done, span = processing_span(env)
    if done != listed:
        raise RuntimeError(f"the API lists {listed} events done, the database has {done}")

    print(
        json.dumps(
            {
                "benchmark": "ingest",
                "backend": backend,
                "accepted_per_s": intake["accepted_per_s"],
                "p50_ms_at_500": intake["p50_ms_at_500"],
                "p99_ms_at_500": intake["p99_ms_at_500"],
                "processed_per_s": round(done / span, 1),
                "drain_s": round(drained, 2),
                "errors_at_500": intake["errors_at_500"],
                "errors_saturated": intake["errors_saturated"],
                "events": done,
                "api_workers": API_WORKERS[backend],
                "worker_processes": WORKER_PROCESSES[backend],
            }
        )
    )


if __name__ == "__main__":
    main()
