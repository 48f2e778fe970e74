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

import logging
import uuid
from datetime import UTC, datetime

from arq.connections import ArqRedis
from arq.constants import in_progress_key_prefix, job_key_prefix
from redis.exceptions import RedisError

log = logging.getLogger(__name__)

PROCESS_EVENT_JOB = "process_event"


# KEYS[1]: the tenant's clock (ms). ARGV[1]: cost of one event (ms). Returns when the
# event is scheduled (ms since the epoch), by Redis's clock.
_FAIR_START = """
local now_parts = redis.call('TIME')
local now = tonumber(now_parts[1]) * 1000 + math.floor(tonumber(now_parts[2]) / 1000)
local last = tonumber(redis.call('GET', KEYS[1]) or '0')
local start = math.max(now, last)
local cost = tonumber(ARGV[1])
local keep = start + cost - now + 60000
redis.call('SET', KEYS[1], tostring(start + cost), 'PX', keep)
return start
"""


def job_id(event_id: uuid.UUID, attempts: int) -> str:
    """One job id per attempt, so arq drops repeats of the same attempt only."""
    return f"event:{event_id}:{attempts}"


class EventQueue:
    def __init__(self, redis: ArqRedis, queue_name: str, tenant_rate: float = 200.0) -> None:
        self.redis = redis
        self.queue_name = queue_name
        self._cost_ms = max(1, round(1000 / tenant_rate))
        self._fair_start = redis.register_script(_FAIR_START)

    async def fair_time(self, tenant_id: uuid.UUID) -> datetime:
        """When the tenant's next event may start, by the tenant's virtual clock."""
        start_ms = int(
            await self._fair_start(
                keys=[f"{self.queue_name}:clock:{tenant_id}"], args=[self._cost_ms]
            )
        )
        return datetime.fromtimestamp(start_ms / 1000, UTC)

    async def enqueue(
        self,
        tenant_id: uuid.UUID,
        event_id: uuid.UUID,
        attempts: int,
        *,
        defer_until: datetime | None = None,
        job_suffix: str = "",
    ) -> bool:
        """Queue one attempt: at `defer_until`, or at the tenant's fair turn."""
        try:
            when = defer_until or await self.fair_time(tenant_id)
            await self.redis.enqueue_job(
                PROCESS_EVENT_JOB,
                str(tenant_id),
                str(event_id),
                _job_id=job_id(event_id, attempts) + job_suffix,
                _queue_name=self.queue_name,
                _defer_until=when,
            )
        except (RedisError, OSError) as exc:
            log.warning(
                "could not enqueue event %s (the sweeper will): %s", event_id, type(exc).__name__
            )
            return False
        return True

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
                    pipe.zscore(self.queue_name, jid)
                    pipe.exists(in_progress_key_prefix + jid)
                answers = await pipe.execute()
            missing = [
                (item, jid)
                for index, (item, jid) in enumerate(zip(due, ids, strict=True))
                if answers[2 * index] is None and not answers[2 * index + 1]
            ]
            if missing:
                await self.redis.delete(*(job_key_prefix + jid for _, jid in missing))
        except (RedisError, OSError) as exc:
            log.warning("could not read the queue to sweep it: %s", type(exc).__name__)
            return 0
        enqueued = 0
        for (tenant_id, event_id, attempts), _ in missing:
            if await self.enqueue(tenant_id, event_id, attempts):
                enqueued += 1
        return enqueued

    async def ping(self) -> bool:
        try:
            return bool(await self.redis.ping())
        except (RedisError, OSError):
            return False

    async def close(self) -> None:
        await self.redis.aclose()
