"""An amoCRM client for one of a tenant's connections: the one way plugins get one."""

from __future__ import annotations

from redis.asyncio import Redis

from junction.connections.credentials import AccessTokens, ConnectionCredentials
from junction.plugins.interfaces import AttemptLog
from junction_amocrm.client import AmoClient
from junction_amocrm.hosts import api_base_url
from junction_amocrm.ratelimit import AccountRateLimiter
from junction_amocrm.settings import AmoSettings


async def open_client(
    credentials: ConnectionCredentials,
    redis: Redis,
    *,
    settings: AmoSettings | None = None,
    log: AttemptLog | None = None,
    dry_run: bool = False,
) -> AmoClient:
    """A client on the account's current domain, sharing the account's request budget
    with every other process, logging its calls to `log` (an event attempt's)."""
    settings = settings or AmoSettings()
    current = await credentials.current()
    limiter = AccountRateLimiter(
        redis, str(current.details["account_id"]), limit=settings.rate_limit_per_second
    )
    base = api_base_url(str(current.details["domain"]), settings.extra_hosts)
    return AmoClient(base, AccessTokens(credentials), limiter, log=log, dry_run=dry_run)
