"""The MobCash sandbox as a real HTTP server, and a workspace set up to deposit through it."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from junction.intake.models import InboundEndpoint
from junction.plugins.models import PluginInstallation
from junction.plugins.registry import build_registry
from junction.runtime import Runtime, open_runtime
from junction.settings import Settings
from junction.tenancy.models import Role
from tests.factories import InboundEndpointFactory, PluginInstallationFactory
from tests.support.accounts import api_with_key
from tests.support.processes import sandbox_process


@pytest.fixture(scope="session")
def mobcash_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    with sandbox_process("mobcash", tmp_path_factory.mktemp("mobcash"), "/_sandbox/stats") as url:
        yield url


@pytest.fixture
def mobcash(mobcash_url: str) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=mobcash_url, timeout=10) as client:
        yield client


@dataclass
class Desk:
    """A tenant with MobCash installed, a cash desk in the sandbox and a player."""

    runtime: Runtime
    sandbox: httpx.Client
    url: str
    cashbox: dict[str, Any]
    player: str
    installation: PluginInstallation
    endpoint: InboundEndpoint
    # Junction's API as the workspace's admin.
    api: httpx.AsyncClient

    @property
    def tenant_id(self) -> uuid.UUID:
        return self.installation.tenant_id

    def manual_fields(self) -> dict[str, Any]:
        copied = self.sandbox.post(
            f"/_sandbox/cashboxes/{self.cashbox['code']}/browser-session", json={}
        ).json()
        return {"mode": "manual", "base_url": self.url, "location": "Kassa 1", **copied}

    def cashbox_fields(self) -> dict[str, Any]:
        return {
            "mode": "cashbox",
            "base_url": self.url,
            "location": "Kassa 1",
            "cashbox_code": self.cashbox["code"],
            "login": self.cashbox["login"],
            "password": self.cashbox["password"],
        }

    async def paste(self, fields: dict[str, Any]) -> httpx.Response:
        """Connect (or replace the credentials) as the workspace's admin does, by the API."""
        return await self.api.post("/api/connections/mobcash/credentials", json=fields)

    async def connect(self, fields: dict[str, Any]) -> dict[str, Any]:
        answer = await self.paste(fields)
        assert answer.status_code == 201, answer.text
        connection: dict[str, Any] = answer.json()
        return connection

    def state(self) -> dict[str, Any]:
        found: dict[str, Any] = self.sandbox.get(
            f"/_sandbox/cashboxes/{self.cashbox['code']}"
        ).json()
        return found

    def balance(self) -> str:
        return str(self.sandbox.get(f"/_sandbox/players/{self.player}").json()["balance"])


@pytest.fixture
async def desk(
    monkeypatch: pytest.MonkeyPatch,
    settings: Settings,
    sessionmaker: async_sessionmaker[AsyncSession],
    session: AsyncSession,
    redis_url: str,
    mobcash: httpx.Client,
    mobcash_url: str,
) -> AsyncIterator[Desk]:
    monkeypatch.setenv("JUNCTION_MOBCASH_EXTRA_HOSTS", mobcash_url)
    monkeypatch.setenv("JUNCTION_MOBCASH_TIMEOUT_SECONDS", "2")
    cashbox = mobcash.post("/_sandbox/cashboxes", json={"balance": "1000"}).json()
    player = mobcash.post("/_sandbox/players", json={"nickname": "lucky"}).json()["id"]
    installation: PluginInstallation = PluginInstallationFactory(plugin="mobcash", config={})
    endpoint: InboundEndpoint = InboundEndpointFactory(
        installation=installation, source_format="mobcash-deposit"
    )
    await session.commit()
    runtime = await open_runtime(
        settings, registry=build_registry(), sessionmaker=sessionmaker, redis_url=redis_url
    )
    try:
        async with api_with_key(
            settings, sessionmaker, session, installation.tenant, Role.admin
        ) as api:
            yield Desk(runtime, mobcash, mobcash_url, cashbox, player, installation, endpoint, api)
    finally:
        await runtime.close()
