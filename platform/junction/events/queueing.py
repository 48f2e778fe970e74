"""Putting events on the arq queue: the fast path, never the record.

Every failure to enqueue is logged and swallowed: the event is already in the
database, and the sweeper enqueues whatever is due and not done.
"""

from __future__ import annotations

import logging
import uuid
from datetime import datetime

from arq.connections import ArqRedis
from arq.constants import in_progress_key_prefix, job_key_prefix
from redis.exceptions import RedisError

log = logging.getLogger(__name__)

PROCESS_EVENT_JOB = "process_event"


def job_id(event_id: uuid.UUID, attempts: int) -> str:
    """One job id per attempt, so arq drops repeats of the same attempt only."""
    return f"event:{event_id}:{attempts}"


class EventQueue:
    def __init__(self, redis: ArqRedis, queue_name: str) -> None:
        self.redis = redis
        self.queue_name = queue_name

    async def enqueue(
        self,
        tenant_id: uuid.UUID,
        event_id: uuid.UUID,
        attempts: int,
        *,
        defer_until: datetime | None = None,
    ) -> bool:
        try:
            await self.redis.enqueue_job(
                PROCESS_EVENT_JOB,
                str(tenant_id),
                str(event_id),
                _job_id=job_id(event_id, attempts),
                _queue_name=self.queue_name,
                _defer_until=defer_until,
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
