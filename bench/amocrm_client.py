"""Benchmark: the amoCRM client's throughput under the shared rate limit, and its cost.

Starts the amoCRM sandbox, connects an account, and runs two worker-like processes that
call it as fast as the limiter lets them for BENCH_SECONDS (a backlog). The sandbox
counts what reached it. Then measures the client's own cost per call against an
in-process transport with no network and no limiter.

Figures (last line, JSON): `limit_rps`, `achieved_rps` (at least 95 % of the limit and
never above it is the target), `max_in_any_second` and `overhead_ms_per_call`.
"""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
import tempfile
import time
from datetime import timedelta
from pathlib import Path

import httpx
from harness import ROOT, free_port

TESTS = ROOT / "plugins" / "amocrm" / "tests"
sys.path[:0] = [str(ROOT), str(TESTS)]

from junction.db import migrate  # noqa: E402
from junction.db.session import create_engine, create_sessionmaker  # noqa: E402
from junction.embedded_redis import EmbeddedRedis  # noqa: E402
from junction.plugins.interfaces import AttemptLog  # noqa: E402
from junction_amocrm.client import AmoClient  # noqa: E402
from tests.factories import TEST_SECRET_KEY  # noqa: E402

SECONDS = float(os.environ.get("BENCH_SECONDS", "10"))
OVERHEAD_CALLS = int(os.environ.get("BENCH_OVERHEAD_CALLS", "3000"))
LIMIT_RPS = 7


async def _overhead_ms() -> float:
    """Cost of one call inside the client: request building, logging, parsing."""
    body = json.dumps({"id": 1, "name": "Bench", "subdomain": "bench", "_links": {}}).encode()

    def answer(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, content=body, headers={"content-type": "application/hal+json"})

    class Token:
        async def access_token(self) -> str:
            return "token"

        async def after_unauthorized(self, rejected: str) -> str:
            return "token"

    class NoLimit:
        async def acquire(self) -> None:
            return None

    http = httpx.AsyncClient(transport=httpx.MockTransport(answer))
    async with AmoClient("http://bench", Token(), NoLimit(), http=http, log=AttemptLog()) as amo:
        for _ in range(200):
            await amo.account()
        started = time.perf_counter()
        for _ in range(OVERHEAD_CALLS):
            await amo.account()
        elapsed = time.perf_counter() - started
    await http.aclose()
    return elapsed / OVERHEAD_CALLS * 1000


def main() -> None:
    import redis as redis_sync
    from sandbox_accounts import caller_spec, connect

    workdir = Path(tempfile.mkdtemp(prefix="junction-bench-amocrm-"))
    embedded = None
    redis_url = os.environ.get("JUNCTION_REDIS_URL", "")
    if not redis_url:
        embedded = EmbeddedRedis(workdir)
        redis_url = embedded.start()
    database_url = f"sqlite+aiosqlite:///{workdir / 'bench.db'}"
    migrate.upgrade(database_url)
    port = free_port()
    sandbox_url = f"http://127.0.0.1:{port}"
    log = (workdir / "sandbox.log").open("wb")
    sandbox_process = subprocess.Popen(
        [sys.executable, "-m", "junction", "sandbox", "amocrm", "--port", str(port)],
        cwd=ROOT,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    callers: list[subprocess.Popen[str]] = []
    try:
        sandbox = httpx.Client(base_url=sandbox_url, timeout=10)
        deadline = time.monotonic() + 30
        while True:
            try:
                if sandbox.get("/_sandbox/integration").status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError("the sandbox did not start")
            time.sleep(0.1)
        account_id = sandbox.post("/_sandbox/accounts", json={"name": "Bench"}).json()["id"]
        engine = create_engine(database_url)
        connection = asyncio.run(
            connect(create_sessionmaker(engine), sandbox, account_id, expires_in=timedelta(hours=1))
        )
        asyncio.run(engine.dispose())
        spec = caller_spec(
            database_url=database_url,
            redis_url=redis_url,
            secret_key=TEST_SECRET_KEY,
            connection=connection,
            sandbox_url=sandbox_url,
            integration=sandbox.get("/_sandbox/integration").json(),
            seconds=SECONDS,
        )
        callers = [
            subprocess.Popen(
                [sys.executable, str(TESTS / "amo_caller.py"), json.dumps(spec)],
                cwd=ROOT,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                text=True,
            )
            for _ in range(2)
        ]
        control = redis_sync.Redis.from_url(redis_url)
        while int(control.get(spec["ready_key"]) or 0) < 2:
            time.sleep(0.05)
        sandbox.post("/_sandbox/stats/reset")
        control.set(spec["go_key"], 1, ex=600)
        results = []
        for caller in callers:
            out, err = caller.communicate(timeout=SECONDS + 120)
            if caller.returncode != 0:
                raise RuntimeError(err)
            results.append(json.loads(out.strip().splitlines()[-1]))
        control.close()
        stats = sandbox.get("/_sandbox/stats").json()["accounts"][str(account_id)]
        elapsed = max(result["elapsed"] for result in results)
        failures = [s for result in results for s in result["statuses"] if s != "ok"]
    finally:
        for caller in callers:
            if caller.poll() is None:
                caller.kill()
        sandbox_process.terminate()
        sandbox_process.wait(timeout=10)
        if embedded is not None:
            embedded.stop()

    figures = {
        "benchmark": "amocrm_client",
        "limit_rps": LIMIT_RPS,
        "achieved_rps": round(stats["accepted"] / elapsed, 2),
        "max_in_any_second": stats["max_per_second"],
        "rejected_429": stats["rejected_429"],
        "failed_calls": len(failures),
        "processes": 2,
        "seconds": round(elapsed, 2),
        "overhead_ms_per_call": round(asyncio.run(_overhead_ms()), 3),
    }
    print(json.dumps(figures))


if __name__ == "__main__":
    main()
