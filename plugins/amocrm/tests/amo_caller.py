"""A worker-like process for the multi-process tests: it waits for a start signal in
Redis, then calls amoCRM (the sandbox) through Junction's connection and client.

Usage: python amo_caller.py <spec JSON>; prints one JSON line with what happened.
"""

from __future__ import annotations

import asyncio
import json
import sys
import time
import uuid
from typing import Any

from redis.asyncio import Redis

from junction.connections.credentials import ConnectionCredentials
from junction.db.session import create_engine, create_sessionmaker
from junction.secretbox import SecretBox
from junction_amocrm.connection import open_client
from junction_amocrm.errors import AmoError
from junction_amocrm.provider import AmoProvider
from junction_amocrm.settings import AmoSettings


async def main(spec: dict[str, Any]) -> dict[str, Any]:
    engine = create_engine(spec["database_url"])
    redis = Redis.from_url(spec["redis_url"])
    settings = AmoSettings(**spec["amocrm"])
    provider = AmoProvider(settings)
    credentials = ConnectionCredentials(
        create_sessionmaker(engine),
        redis,
        SecretBox([spec["secret_key"]]),
        provider,
        uuid.UUID(spec["tenant_id"]),
        uuid.UUID(spec["connection_id"]),
    )
    await redis.incr(spec["ready_key"])
    while not await redis.exists(spec["go_key"]):
        await asyncio.sleep(0.005)
    statuses: list[str] = []
    started = time.monotonic()
    async with await open_client(credentials, redis, settings=settings) as amo:
        deadline = started + spec.get("seconds", 0)
        calls = 0
        while calls < spec.get("calls", 1) or time.monotonic() < deadline:
            try:
                await amo.account()
                statuses.append("ok")
            except AmoError as exc:
                statuses.append(f"{type(exc).__name__}: {exc}")
            calls += 1
            if spec.get("seconds") and time.monotonic() >= deadline:
                break
    elapsed = time.monotonic() - started
    await redis.aclose()
    await engine.dispose()
    return {"statuses": statuses, "elapsed": elapsed}


if __name__ == "__main__":
    print(json.dumps(asyncio.run(main(json.loads(sys.argv[1])))))
