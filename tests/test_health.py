"""/healthz and /readyz."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest
from asgi_lifespan import LifespanManager
from fastapi.testclient import TestClient

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


def test_the_web_app_is_served_and_its_files_are_fixed_paths(tmp_path: Path) -> None:
    """The built app's pages and files; a query cannot make it read another file."""
    build = tmp_path / "dist"
    (build / "assets").mkdir(parents=True)
    (build / "index.html").write_text("<div id=root></div>")
    (build / "favicon.svg").write_text("<svg/>")
    (build / "assets" / "app.js").write_text("console.log(1)")
    secret = tmp_path / "secret.txt"
    secret.write_text("not for the web")
    app = create_app(Settings(web_dir=build, var_dir=tmp_path / "var"))
    # The pages need no runtime: no lifespan is run.
    client = TestClient(app)
    for page in ("/", "/app", "/app/events/123"):
        assert client.get(page).text == "<div id=root></div>", page
    assert client.get("/assets/app.js").text == "console.log(1)"
    assert client.get("/favicon.svg").text == "<svg/>"
    assert client.get(f"/favicon.svg?file={secret}").text == "<svg/>"
    assert client.get("/assets/../../secret.txt").status_code == 404
