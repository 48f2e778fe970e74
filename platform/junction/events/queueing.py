"""Putting events on the arq queue: the fast path, never the record.

Every failure to enqueue is logged and swallowed: the event is already in the
database, and the sweeper enqueues whatever is due and not done.

Fairness: arq runs jobs in the order of their scheduled time. Each tenant has a virtual
clock in Redis; an event is scheduled at `max(now, the tenant's clock)` and moves the
clock on by `1 / tenant_dispatch_rate`. A tenant's flood of ten thousand orders is spread
out over time while another tenant's single order is scheduled now, so it never waits
behind the flood (start-time fair queuing).
"""

from __future__ import annotations

import asyncio
import logging
import uuid
from datetime import UTC, datetime
from typing import Any

from arq.connections import ArqRedis
from arq.constants import (
    expires_extra_ms,
    in_progress_key_prefix,
    job_key_prefix,
    result_key_prefix,
)
from arq.jobs import serialize_job
from arq.utils import timestamp_ms, to_unix_ms
from redis.exceptions import RedisError

log = logging.getLogger(__name__)

PROCESS_EVENT_JOB = "process_event"
# New events sent to Redis in one round trip, at most.
SOON_BATCH = 500


# One round trip per enqueue: what arq's enqueue_job does (refuse a job id that is taken,
# store the job, add it to the queue), with the tenant's fair turn worked out in place.
# KEYS: the queue, the job's key, its result's key, the tenant's clock (ms).
# ARGV: the job id, the serialized job, the cost of one event (ms), a fixed start time
# (ms, or '' for the fair turn), how long the job outlives its start (ms).
# Returns the job's start time (ms since the epoch, by Redis's clock), or -1 when taken.
_ENQUEUE = """
if redis.call('EXISTS', KEYS[2], KEYS[3]) > 0 then return -1 end
local now_parts = redis.call('TIME')
local now = tonumber(now_parts[1]) * 1000 + math.floor(tonumber(now_parts[2]) / 1000)
local start
if ARGV[4] ~= '' then
  start = tonumber(ARGV[4])
else
  local last = tonumber(redis.call('GET', KEYS[4]) or '0')
  start = math.max(now, last)
  local cost = tonumber(ARGV[3])
  redis.call('SET', KEYS[4], string.format('%d', start + cost), 'PX', start + cost - now + 60000)
end
redis.call('PSETEX', KEYS[2], math.max(start - now, 0) + tonumber(ARGV[5]), ARGV[2])
redis.call('ZADD', KEYS[1], start, ARGV[1])
return start
"""


def job_id(event_id: uuid.UUID, attempts: int, *, waiting: bool = False) -> str:
    """One job id per attempt, so arq drops repeats of the same attempt only; and a second
    one, for asking again while the first is still running (the tenant was at its cap)."""
    return f"event:{event_id}:{attempts}" + (":wait" if waiting else "")


class EventQueue:
    def __init__(self, redis: ArqRedis, queue_name: str, tenant_rate: float = 200.0) -> None:
        self.redis = redis
        self.queue_name = queue_name
        self._cost_ms = max(1, round(1000 / tenant_rate))
        self._enqueue = redis.register_script(_ENQUEUE)
        self._soon: list[tuple[uuid.UUID, uuid.UUID]] = []
        self._sending: asyncio.Task[None] | None = None

    async def enqueue(
        self,
        tenant_id: uuid.UUID,
        event_id: uuid.UUID,
        attempts: int,
        *,
        defer_until: datetime | None = None,
        waiting: bool = False,
    ) -> datetime | None:
        """Queue one attempt: at `defer_until`, or at the tenant's fair turn.

        Returns when it is due to start, or None if it was not queued (already queued,
        or Redis is unreachable).
        """
        try:
            keys, args = self._script_call(tenant_id, event_id, attempts, defer_until, waiting)
            start_ms = int(await self._enqueue(keys=keys, args=args))
        except (RedisError, OSError) as exc:
            log.warning(
                "could not enqueue event %s (the sweeper will): %s", event_id, type(exc).__name__
            )
            return None
        if start_ms < 0:
            return None
        return datetime.fromtimestamp(start_ms / 1000, UTC)

    def _script_call(
        self,
        tenant_id: uuid.UUID,
        event_id: uuid.UUID,
        attempts: int,
        defer_until: datetime | None,
        waiting: bool,
    ) -> tuple[list[Any], list[Any]]:
        jid = job_id(event_id, attempts, waiting=waiting)
        job = serialize_job(
            PROCESS_EVENT_JOB, (str(tenant_id), str(event_id)), {}, None, timestamp_ms()
        )
        fixed = "" if defer_until is None else str(to_unix_ms(defer_until))
        keys = [
            self.queue_name,
            job_key_prefix + jid,
            result_key_prefix + jid,
            f"{self.queue_name}:clock:{tenant_id}",
        ]
        return keys, [jid, job, self._cost_ms, fixed, expires_extra_ms]

    def enqueue_soon(self, tenant_id: uuid.UUID, event_id: uuid.UUID) -> None:
        """Queue a new event's first attempt shortly, together with others arriving now:
        one round trip to Redis for all of them. Nothing waits for it; a failure is left
        to the sweeper."""
        self._soon.append((tenant_id, event_id))
        if self._sending is None or self._sending.done():
            self._sending = asyncio.create_task(self._send_soon())

    async def _send_soon(self) -> None:
        while self._soon:
            batch, self._soon = self._soon[:SOON_BATCH], self._soon[SOON_BATCH:]
            try:
                async with self.redis.pipeline(transaction=False) as pipe:
                    for tenant_id, event_id in batch:
                        keys, args = self._script_call(tenant_id, event_id, 0, None, False)
                        await self._enqueue(keys=keys, args=args, client=pipe)
                    await pipe.execute()
            except (RedisError, OSError) as exc:
                log.warning(
                    "could not enqueue %d events (the sweeper will): %s",
                    len(batch),
                    type(exc).__name__,
                )

    async def discard(self, jobs: list[tuple[uuid.UUID, int]]) -> None:
        """Drop the queued jobs of (event, attempts) another job has taken over."""
        if not jobs:
            return
        ids = [
            job_id(event_id, attempts, waiting=waiting)
            for event_id, attempts in jobs
            for waiting in (False, True)
        ]
        try:
            async with self.redis.pipeline(transaction=False) as pipe:
                pipe.zrem(self.queue_name, *ids)
                pipe.delete(*(job_key_prefix + jid for jid in ids))
                await pipe.execute()
        except (RedisError, OSError) as exc:
            # Harmless: each such job finds its event taken and does nothing.
            log.warning("could not drop jobs taken over by a batch: %s", type(exc).__name__)

    async def requeue_missing(self, due: list[tuple[uuid.UUID, uuid.UUID, int]]) -> int:
        """Enqueue each (tenant, event, attempts) whose job is neither queued nor running.

        A job key can outlive its queue entry (a partial loss in Redis); arq would then
        refuse the job id as taken, so the stale key is dropped first.
        """
        if not due:
            return 0
        ids = [job_id(event_id, attempts) for _, event_id, attempts in due]
        try:
            async with self.redis.pipeline(transaction=False) as pipe:
                for jid in ids:
                    for either in (jid, f"{jid}:wait"):
                        pipe.zscore(self.queue_name, either)
                        pipe.exists(in_progress_key_prefix + either)
                answers = await pipe.execute()
            missing = [
                (item, jid)
                for index, (item, jid) in enumerate(zip(due, ids, strict=True))
                if answers[4 * index] is None
                and not answers[4 * index + 1]
                and answers[4 * index + 2] is None
                and not answers[4 * index + 3]
            ]
            if missing:
                await self.redis.delete(*(job_key_prefix + jid for _, jid in missing))
        except (RedisError, OSError) as exc:
            log.warning("could not read the queue to sweep it: %s", type(exc).__name__)
            return 0
        enqueued = 0
        for (tenant_id, event_id, attempts), _ in missing:
            if await self.enqueue(tenant_id, event_id, attempts) is not None:
                enqueued += 1
        return enqueued

    async def ping(self) -> bool:
        try:
            return bool(await self.redis.ping())
        except (RedisError, OSError):
            return False

    async def sent(self) -> None:
        """Wait until the events handed to `enqueue_soon` have been sent."""
        if self._sending is not None:
            await self._sending

    async def close(self) -> None:
        await self.sent()
        await self.redis.aclose()
