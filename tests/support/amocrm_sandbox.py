"""The amoCRM sandbox as a real HTTP server, for the tests of every plugin that talks to
amoCRM: `sandbox_url`, a `sandbox` client for its inspection API, a fresh `account_id`;
Junction's settings pointed at it, and an account connected as Junction stores one."""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
import time_machine
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from junction.connections.models import Connection
from junction.db.base import utcnow
from junction.tenancy.models import Tenant
from tests.factories import secretbox
from tests.support.processes import sandbox_process


def amocrm_environment(sandbox: httpx.Client, sandbox_url: str) -> dict[str, str]:
    """The JUNCTION_AMOCRM_* settings that point Junction at the sandbox's integration."""
    integration = sandbox.get("/_sandbox/integration").json()
    return {
        "JUNCTION_AMOCRM_CLIENT_ID": integration["client_id"],
        "JUNCTION_AMOCRM_CLIENT_SECRET": integration["client_secret"],
        "JUNCTION_AMOCRM_REDIRECT_URI": integration["redirect_uri"],
        "JUNCTION_AMOCRM_EXTRA_HOSTS": sandbox_url,
        "JUNCTION_AMOCRM_CONSENT_URL": f"{sandbox_url}/oauth",
    }


async def consent(
    api: httpx.AsyncClient,
    sandbox: httpx.Client,
    account_id: int,
    decision: str = "allow",
    headers: dict[str, str] | None = None,
) -> dict[str, str]:
    """Start connecting through Junction's API, answer the sandbox's consent page, and
    return the query the browser brings back to the callback."""
    started = await api.post("/api/connections/amocrm/authorize", headers=headers)
    assert started.status_code == 200, started.text
    url = started.json()["authorization_url"]
    page = sandbox.get(url + f"&account_id={account_id}")
    assert page.status_code == 200
    form = dict(re.findall(r'name="(\w+)" value="([^"]*)"', page.text))
    answer = sandbox.post("/oauth/decision", data={**form, "decision": decision})
    assert answer.status_code == 302
    return {
        key: values[0]
        for key, values in parse_qs(urlsplit(answer.headers["location"]).query).items()
    }


class SandboxClock:
    """Junction's clock (time-machine) and one sandbox account's, moved forward together:
    tokens age on both sides as if the time had passed."""

    def __init__(
        self, traveller: time_machine.Traveller, sandbox: httpx.Client, account_id: int
    ) -> None:
        self._traveller = traveller
        self._sandbox = sandbox
        self._account_id = account_id

    def advance(self, delta: timedelta) -> None:
        self._traveller.shift(delta)
        moved = self._sandbox.post(
            f"/_sandbox/accounts/{self._account_id}/clock",
            json={"advance_seconds": delta.total_seconds()},
        )
        assert moved.status_code == 200, moved.text


@contextmanager
def moving_clock(sandbox: httpx.Client, account_id: int) -> Iterator[SandboxClock]:
    with time_machine.travel(utcnow(), tick=True) as traveller:
        yield SandboxClock(traveller, sandbox, account_id)


async def connect(
    sessionmaker: async_sessionmaker[AsyncSession],
    sandbox: httpx.Client,
    account_id: int,
    *,
    tenant_id: uuid.UUID | None = None,
    expires_in: timedelta = timedelta(hours=24),
) -> Connection:
    """The account connected for `tenant_id` (a new tenant when None), tokens fresh."""
    tokens = sandbox.post(f"/_sandbox/accounts/{account_id}/tokens", json={}).json()
    host = sandbox.get("/_sandbox/integration").json()["host"]
    async with sessionmaker() as session:
        if tenant_id is None:
            tenant = Tenant(id=uuid.uuid4(), slug=f"t-{uuid.uuid4().hex[:8]}", name="T")
            session.add(tenant)
            await session.flush()
            tenant_id = tenant.id
        connection = Connection(
            id=uuid.uuid4(),
            tenant_id=tenant_id,
            provider="amocrm",
            name="amoCRM",
            account_ref=str(account_id),
            secrets_encrypted=secretbox.encrypt_json(
                {"access_token": tokens["access_token"], "refresh_token": tokens["refresh_token"]}
            ),
            details={"domain": host, "account_id": account_id},
            expires_at=utcnow() + expires_in,
            refreshed_at=utcnow(),
        )
        session.add(connection)
        await session.commit()
    return connection


@pytest.fixture(scope="session")
def sandbox_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    with sandbox_process(
        "amocrm", tmp_path_factory.mktemp("amocrm"), "/_sandbox/integration"
    ) as url:
        yield url


@pytest.fixture
def sandbox(sandbox_url: str) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=sandbox_url, timeout=10) as client:
        yield client


@pytest.fixture
def account_id(sandbox: httpx.Client) -> int:
    """A fresh account per test, so tests never see each other's data."""
    response = sandbox.post(
        "/_sandbox/accounts", json={"subdomain": "test", "name": "Test account"}
    )
    account: int = response.json()["id"]
    return account
