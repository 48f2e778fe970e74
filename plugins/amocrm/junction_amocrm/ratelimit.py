"""One request budget per amoCRM account, in Redis, shared by every worker process.

amoCRM allows 7 requests per second and blocks an account's API (403, lifted only by
its support) after repeated excess, so the limit is a sliding-window log: at most
`limit` requests in any `window` seconds, counted across processes by one atomic script
using Redis's clock. The window carries a small guard over one second so that timing
jitter between granting a slot and the request reaching amoCRM cannot squeeze an extra
request into a second.
"""

from __future__ import annotations

import asyncio
import uuid

from redis.asyncio import Redis

DEFAULT_LIMIT = 7
DEFAULT_WINDOW_SECONDS = 1.04

# KEYS[1]: the account's log. ARGV: window (µs), limit, member. Returns 0 when a slot was
# taken, else how many µs until the oldest entry leaves the window.
_ACQUIRE = """
local now_parts = redis.call('TIME')
local now = tonumber(now_parts[1]) * 1000000 + tonumber(now_parts[2])
local window = tonumber(ARGV[1])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now - window)
if redis.call('ZCARD', KEYS[1]) < tonumber(ARGV[2]) then
  redis.call('ZADD', KEYS[1], now, ARGV[3])
  redis.call('PEXPIRE', KEYS[1], math.ceil(window / 1000) + 1000)
  return 0
end
local oldest = redis.call('ZRANGE', KEYS[1], 0, 0, 'WITHSCORES')
return math.max(1, tonumber(oldest[2]) + window - now)
"""


class AccountRateLimiter:
    def __init__(
        self,
        redis: Redis,
        account_key: str,
        *,
        limit: int = DEFAULT_LIMIT,
        window_seconds: float = DEFAULT_WINDOW_SECONDS,
    ) -> None:
        self._redis = redis
        self._key = f"junction:amocrm:rate:{account_key}"
        self._limit = limit
        self._window_us = int(window_seconds * 1_000_000)
        self._script = redis.register_script(_ACQUIRE)

    async def acquire(self) -> None:
        """Wait until this process may send one request to the account."""
        member = uuid.uuid4().hex
        while True:
            wait_us = int(
                await self._script(keys=[self._key], args=[self._window_us, self._limit, member])
            )
            if wait_us == 0:
                return
            await asyncio.sleep(wait_us / 1_000_000)
