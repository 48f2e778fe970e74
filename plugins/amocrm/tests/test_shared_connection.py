"""Two worker processes sharing one amoCRM connection and its rate limit."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
import redis as redis_sync
from sandbox_accounts import caller_spec, connect

from tests.factories import TEST_SECRET_KEY
from tests.support.backends import Databases
from tests.support.processes import ROOT, wait_for

pytestmark = pytest.mark.processes

CALLER = Path(__file__).with_name("amo_caller.py")


@pytest.fixture
async def database_url(databases: Databases) -> str:
    return await databases.create_migrated()


@pytest.fixture
def redis_client(redis_url: str) -> Iterator[redis_sync.Redis]:
    client = redis_sync.Redis.from_url(redis_url)
    yield client
    client.close()


async def _start_callers(
    count: int,
    database_url: str,
    redis_url: str,
    sandbox: httpx.Client,
    sandbox_url: str,
    account_id: int,
    redis_client: redis_sync.Redis,
    expires_in: timedelta,
    **extra: Any,
) -> list[subprocess.Popen[str]]:
    from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker  # noqa: F401

    from junction.db.session import create_engine, create_sessionmaker

    engine = create_engine(database_url)
    try:
        connection = await connect(
            create_sessionmaker(engine), sandbox, account_id, expires_in=expires_in
        )
    finally:
        await engine.dispose()
    spec = caller_spec(
        database_url=database_url,
        redis_url=redis_url,
        secret_key=TEST_SECRET_KEY,
        connection=connection,
        sandbox_url=sandbox_url,
        integration=sandbox.get("/_sandbox/integration").json(),
        **extra,
    )
    callers = [
        subprocess.Popen(
            [sys.executable, str(CALLER), json.dumps(spec)],
            cwd=ROOT,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(count)
    ]

    def ready() -> bool:
        value: Any = redis_client.get(spec["ready_key"])
        return int(value or 0) == count

    wait_for(ready, timeout=60, what="both callers to be ready")
    sandbox.post("/_sandbox/stats/reset")
    redis_client.set(spec["go_key"], 1, ex=120)
    return callers


def _results(callers: list[subprocess.Popen[str]]) -> list[dict[str, Any]]:
    results = []
    for caller in callers:
        out, err = caller.communicate(timeout=120)
        assert caller.returncode == 0, err
        results.append(json.loads(out.strip().splitlines()[-1]))
    return results


async def test_two_processes_finding_the_token_expired_refresh_once(
    database_url: str,
    redis_url: str,
    sandbox: httpx.Client,
    sandbox_url: str,
    account_id: int,
    redis_client: redis_sync.Redis,
) -> None:
    callers = await _start_callers(
        2,
        database_url,
        redis_url,
        sandbox,
        sandbox_url,
        account_id,
        redis_client,
        expires_in=timedelta(seconds=-1),
        calls=1,
    )
    results = _results(callers)
    assert [r["statuses"] for r in results] == [["ok"], ["ok"]]
    assert sandbox.get("/_sandbox/stats").json()["refreshes"] == 1


async def test_two_processes_together_stay_within_seven_per_second(
    database_url: str,
    redis_url: str,
    sandbox: httpx.Client,
    sandbox_url: str,
    account_id: int,
    redis_client: redis_sync.Redis,
) -> None:
    callers = await _start_callers(
        2,
        database_url,
        redis_url,
        sandbox,
        sandbox_url,
        account_id,
        redis_client,
        expires_in=timedelta(hours=1),
        seconds=4,
    )
    results = _results(callers)
    assert all(status == "ok" for r in results for status in r["statuses"])
    stats = sandbox.get("/_sandbox/stats").json()["accounts"][str(account_id)]
    assert stats["rejected_429"] == 0
    assert stats["max_per_second"] <= 7
    # Close to the limit: both processes together made about 4 s × 7 calls.
    assert stats["accepted"] >= 24
