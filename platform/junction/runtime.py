"""What every Junction process holds while it runs: one object, built at start-up.

The API keeps it on `app.state.runtime`, the worker in its arq context; nothing of it is
a module global.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field

from arq.connections import ArqRedis
from redis.asyncio import ConnectionPool
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from junction.accounts.mail import Mailer, build_mailer
from junction.accounts.ratelimit import RateLimiter
from junction.billing.subscriptions import Billing, build_billing
from junction.db.session import create_engine, create_sessionmaker
from junction.embedded_redis import EmbeddedRedis
from junction.events.queueing import EventQueue
from junction.intake.routing import EndpointRoutes
from junction.intake.writer import EventWriter
from junction.metrics import Metrics
from junction.plugins.registry import PluginRegistry, build_registry
from junction.secretbox import SecretBox
from junction.settings import Settings, SettingsError


@dataclass
class Runtime:
    settings: Settings
    engine: AsyncEngine
    sessionmaker: async_sessionmaker[AsyncSession]
    secretbox: SecretBox
    registry: PluginRegistry
    queue: EventQueue
    redis_url: str
    endpoint_routes: EndpointRoutes
    event_writer: EventWriter
    mailer: Mailer
    rate_limiter: RateLimiter
    # None: billing is off (no Stripe key) and every tenant is unlimited.
    billing: Billing | None = None
    embedded_redis: EmbeddedRedis | None = None
    metrics: Metrics = field(default_factory=Metrics)

    async def close(self) -> None:
        await self.queue.close()
        await self.engine.dispose()
        if self.embedded_redis is not None:
            self.embedded_redis.stop()


@dataclass
class Provisioning:
    """What commands that only provision data need: no Redis, no queue."""

    sessionmaker: async_sessionmaker[AsyncSession]
    registry: PluginRegistry
    secretbox: SecretBox


@asynccontextmanager
async def open_provisioning(settings: Settings) -> AsyncIterator[Provisioning]:
    engine = create_engine(settings.resolved_database_url)
    try:
        yield Provisioning(
            sessionmaker=create_sessionmaker(engine),
            registry=build_registry(),
            secretbox=SecretBox(settings.secret_keys()),
        )
    finally:
        await engine.dispose()


def resolve_redis_url(settings: Settings) -> tuple[str, EmbeddedRedis | None]:
    if settings.redis_url:
        return settings.redis_url, None
    embedded = EmbeddedRedis(settings.var_dir)
    return embedded.start(), embedded


def connect_redis(url: str) -> ArqRedis:
    """An arq client that connects lazily, so a process starts even while Redis is down."""
    return ArqRedis(connection_pool=ConnectionPool.from_url(url, socket_connect_timeout=2))


async def open_runtime(
    settings: Settings,
    *,
    registry: PluginRegistry | None = None,
    sessionmaker: async_sessionmaker[AsyncSession] | None = None,
    redis_url: str | None = None,
) -> Runtime:
    """Build the runtime; `redis_url` given means its owner manages that Redis."""
    registry = registry or build_registry()
    unknown = [name for name in settings.new_workspace_plugins if name not in registry.plugins]
    if unknown:
        raise SettingsError(
            f"JUNCTION_NEW_WORKSPACE_PLUGINS: no plugin {', '.join(map(repr, unknown))}; "
            f"known: {', '.join(sorted(registry.plugins))}"
        )
    engine = create_engine(settings.resolved_database_url)
    embedded = None
    if redis_url is None:
        redis_url, embedded = resolve_redis_url(settings)
    sessionmaker = sessionmaker or create_sessionmaker(engine)
    redis = connect_redis(redis_url)
    return Runtime(
        settings=settings,
        engine=engine,
        sessionmaker=sessionmaker,
        secretbox=SecretBox(settings.secret_keys()),
        registry=registry,
        queue=EventQueue(redis, settings.queue_name, settings.tenant_dispatch_rate),
        redis_url=redis_url,
        endpoint_routes=EndpointRoutes(sessionmaker, settings.endpoint_cache_seconds),
        event_writer=EventWriter(sessionmaker),
        mailer=build_mailer(settings),
        rate_limiter=RateLimiter(redis, settings.queue_name),
        billing=build_billing(settings),
        embedded_redis=embedded,
    )
