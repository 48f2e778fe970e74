"""/healthz and /readyz."""

from __future__ import annotations

import httpx
import pytest
from asgi_lifespan import LifespanManager

from junction.app import create_app
from junction.plugins.registry import PluginRegistry
from junction.runtime import connect_redis
from junction.settings import Settings
from tests.support.backends import Databases
from tests.support.fixtures import make_settings


@pytest.mark.slice
async def test_ready_when_database_redis_and_migrations_are(client: httpx.AsyncClient) -> None:
    assert (await client.get("/healthz")).json() == {"status": "ok"}
    response = await client.get("/readyz")
    assert response.status_code == 200
    assert response.json() == {
        "status": "ready",
        "checks": {"database": "ok", "migrations": "ok", "redis": "ok"},
    }


async def test_not_ready_on_an_unmigrated_database_or_without_redis(
    databases: Databases, settings: Settings, registry: PluginRegistry
) -> None:
    empty = await databases.create()
    unmigrated = make_settings(settings.var_dir, empty, settings.redis_url)
    app = create_app(unmigrated, registry=registry)
    async with LifespanManager(app):
        app.state.runtime.queue.redis = connect_redis("redis://127.0.0.1:1/0")
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
            response = await client.get("/readyz")
            alive = await client.get("/healthz")
    assert alive.status_code == 200
    assert response.status_code == 503
    assert response.json()["checks"] == {
        "database": "ok",
        "migrations": "not at head: run `junction migrate`",
        "redis": "unreachable",
    }
