"""Fixtures: real databases and Redis, a rolled-back transaction per test, the app."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from asgi_lifespan import LifespanManager
from fastapi import FastAPI
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, AsyncSession, async_sessionmaker

from junction.accounts.capture import MailCapture
from junction.app import create_app
from junction.embedded_redis import EmbeddedRedis
from junction.plugins.registry import PluginRegistry, build_registry
from junction.runtime import Runtime, open_runtime
from junction.settings import Settings
from tests import factories
from tests.support.backends import Databases, external_redis_url, test_engine
from tests.support.receiver import Receiver


@pytest.fixture(scope="session")
async def databases(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Databases]:
    databases = Databases(tmp_path_factory.mktemp("databases"))
    yield databases
    await databases.drop_all()


@pytest.fixture(scope="session")
def redis_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    external = external_redis_url()
    if external:
        yield external
        return
    embedded = EmbeddedRedis(tmp_path_factory.mktemp("redis"))
    url = embedded.start()
    yield url
    embedded.stop()


@pytest.fixture(scope="session")
async def database_url(databases: Databases) -> str:
    return await databases.create_migrated()


@pytest.fixture(scope="session")
async def engine(database_url: str) -> AsyncIterator[AsyncEngine]:
    engine = test_engine(database_url)
    yield engine
    await engine.dispose()


@pytest.fixture
async def connection(engine: AsyncEngine) -> AsyncIterator[AsyncConnection]:
    """One connection in a transaction that is rolled back after the test."""
    async with engine.connect() as connection:
        transaction = await connection.begin()
        yield connection
        await transaction.rollback()


@pytest.fixture
def sessionmaker(connection: AsyncConnection) -> async_sessionmaker[AsyncSession]:
    # Commits inside the code under test release savepoints; the outer rollback undoes all.
    return async_sessionmaker(
        bind=connection, expire_on_commit=False, join_transaction_mode="create_savepoint"
    )


@pytest.fixture
async def session(sessionmaker: async_sessionmaker[AsyncSession]) -> AsyncIterator[AsyncSession]:
    async with sessionmaker() as session:
        for factory_class in factories.ALL_FACTORIES:
            factory_class._meta.sqlalchemy_session = session.sync_session
        yield session
        for factory_class in factories.ALL_FACTORIES:
            factory_class._meta.sqlalchemy_session = None


def make_settings(var_dir: Path, database_url: str, redis_url: str, **overrides: Any) -> Settings:
    values: dict[str, Any] = {
        "var_dir": var_dir,
        "database_url": database_url,
        "redis_url": redis_url,
        "secret_key": factories.TEST_SECRET_KEY,
        "queue_name": f"junction:test:{uuid.uuid4().hex[:8]}",
        "retry_schedule_seconds": [5.0, 10.0],
        "event_lease_seconds": 30.0,
    }
    values.update(overrides)
    return Settings(**values)


# The Telegram bot the tests' installation sends alerts with (to the receiver's stand-in).
TELEGRAM_BOT_TOKEN = "123456789:AAEjunctionTestBotTokenAAAAAAAAAAAAA"


@pytest.fixture
def settings(
    tmp_path: Path,
    database_url: str,
    redis_url: str,
    mail_capture: MailCapture,
    receiver: Receiver,
) -> Settings:
    return make_settings(
        tmp_path / "var",
        database_url,
        redis_url,
        smtp_url=mail_capture.url,
        telegram_api_url=receiver.url,
        telegram_bot_token=TELEGRAM_BOT_TOKEN,
        # Alert webhooks go to the local receiver.
        alert_webhooks_to_private_hosts=True,
    )


@pytest.fixture(scope="session")
def registry() -> PluginRegistry:
    return build_registry()


@pytest.fixture
async def runtime(
    settings: Settings,
    registry: PluginRegistry,
    sessionmaker: async_sessionmaker[AsyncSession],
    redis_url: str,
) -> AsyncIterator[Runtime]:
    runtime = await open_runtime(
        settings, registry=registry, sessionmaker=sessionmaker, redis_url=redis_url
    )
    yield runtime
    await runtime.close()


@pytest.fixture
async def app(
    settings: Settings, registry: PluginRegistry, sessionmaker: async_sessionmaker[AsyncSession]
) -> AsyncIterator[FastAPI]:
    app = create_app(settings, registry=registry, sessionmaker=sessionmaker)
    async with LifespanManager(app):
        yield app


@pytest.fixture
async def client(app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://junction.test") as client:
        yield client
