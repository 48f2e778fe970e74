"""Slowing brute force: attempts counted per account and per address, in Redis.

A fixed window per (action, who): simple, shared by every API process, and forgotten by
Redis when the window ends. When Redis is down, nothing is limited rather than nobody
being able to log in; the database stays the record of who may do what.
"""

from __future__ import annotations

import contextlib
import hashlib
import logging
from dataclasses import dataclass

from redis.asyncio import Redis
from redis.exceptions import RedisError

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Limit:
    attempts: int
    window_seconds: int


# action -> (per account, per address)
LIMITS: dict[str, tuple[Limit, Limit]] = {
    "login": (Limit(10, 900), Limit(50, 900)),
    "signup": (Limit(5, 3600), Limit(20, 3600)),
    "reset": (Limit(5, 3600), Limit(20, 3600)),
}


class RateLimited(Exception):
    def __init__(self, action: str, retry_after: int) -> None:
        super().__init__(f"too many {action} attempts; try again in {retry_after} seconds")
        self.retry_after = retry_after


class RateLimiter:
    def __init__(self, redis: Redis, prefix: str) -> None:
        self.redis = redis
        self.prefix = prefix

    def _key(self, action: str, kind: str, who: str) -> str:
        # Hashed: the keys would otherwise list addresses and emails in Redis.
        digest = hashlib.sha256(who.strip().lower().encode()).hexdigest()[:32]
        return f"{self.prefix}:ratelimit:{action}:{kind}:{digest}"

    async def hit(self, action: str, *, account: str | None, address: str | None) -> None:
        """Count one attempt; raise `RateLimited` once either count is over its limit."""
        per_account, per_address = LIMITS[action]
        checks = [
            (self._key(action, "account", account), per_account) if account else None,
            (self._key(action, "address", address), per_address) if address else None,
        ]
        wanted = [check for check in checks if check is not None]
        try:
            async with self.redis.pipeline(transaction=False) as pipe:
                for key, limit in wanted:
                    # The window starts with the first attempt and is not moved by later ones.
                    pipe.set(key, 0, ex=limit.window_seconds, nx=True)
                    pipe.incr(key)
                    pipe.ttl(key)
                answers = await pipe.execute()
        except (RedisError, OSError) as exc:
            log.warning("rate limits unavailable (not enforced): %s", type(exc).__name__)
            return
        for index, (_, limit) in enumerate(wanted):
            _, count, ttl = answers[3 * index : 3 * index + 3]
            if int(count) > limit.attempts:
                raise RateLimited(action, max(1, int(ttl)))

    async def clear(self, action: str, *, account: str) -> None:
        """Forget an account's attempts (after it logged in or reset its password)."""
        with contextlib.suppress(RedisError, OSError):
            await self.redis.delete(self._key(action, "account", account))
