"""Token refresh: one at a time per connection, stored before use, refusals explained."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from datetime import timedelta

import httpx
import pytest
from redis.asyncio import Redis
from sandbox_accounts import connect, sandbox_provider
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from junction.connections.credentials import AccessTokens, ConnectionCredentials, NeedsReauth
from junction.connections.models import Connection, ConnectionStatus
from junction.db.base import utcnow
from junction.db.session import create_engine, create_sessionmaker
from junction.db.tenancy import scope_to_tenant
from junction_amocrm.client import AmoClient
from junction_amocrm.provider import AmoProvider
from junction_amocrm.ratelimit import AccountRateLimiter
from junction_amocrm.settings import AmoSettings
from tests.factories import secretbox
from tests.support.backends import Databases


@pytest.fixture
async def committed(databases: Databases) -> AsyncIterator[async_sessionmaker[AsyncSession]]:
    """A database whose writes are committed, for work spread over concurrent tasks."""
    engine = create_engine(await databases.create_migrated())
    yield create_sessionmaker(engine)
    await engine.dispose()


@pytest.fixture
async def redis(redis_url: str) -> AsyncIterator[Redis]:
    client = Redis.from_url(redis_url)
    yield client
    await client.aclose()


def credentials_for(
    connection: Connection,
    sessionmaker: async_sessionmaker[AsyncSession],
    redis: Redis,
    provider: AmoProvider,
) -> ConnectionCredentials:
    return ConnectionCredentials(
        sessionmaker, redis, secretbox, provider, connection.tenant_id, connection.id
    )


def refreshes(sandbox: httpx.Client) -> int:
    count: int = sandbox.get("/_sandbox/stats").json()["refreshes"]
    return count


async def test_an_expiring_token_is_refreshed_and_stored_before_use(
    committed: async_sessionmaker[AsyncSession],
    redis: Redis,
    sandbox: httpx.Client,
    sandbox_url: str,
    account_id: int,
) -> None:
    connection = await connect(committed, sandbox, account_id, expires_in=timedelta(minutes=1))
    credentials = credentials_for(
        connection, committed, redis, sandbox_provider(sandbox, sandbox_url)
    )
    before = refreshes(sandbox)
    current = await credentials.current()
    assert refreshes(sandbox) == before + 1
    assert current.version == 1
    assert current.expires_at is not None
    assert current.expires_at > utcnow() + timedelta(hours=23)
    stored = await credentials.load()
    assert stored.secrets == current.secrets
    # Fresh now: no second refresh.
    await credentials.current()
    assert refreshes(sandbox) == before + 1


async def test_concurrent_refreshes_of_one_connection_make_one_call(
    committed: async_sessionmaker[AsyncSession],
    redis: Redis,
    sandbox: httpx.Client,
    sandbox_url: str,
    account_id: int,
) -> None:
    connection = await connect(committed, sandbox, account_id, expires_in=timedelta(seconds=-5))
    provider = sandbox_provider(sandbox, sandbox_url)
    # Separate objects, as separate workers would have.
    sources = [credentials_for(connection, committed, redis, provider) for _ in range(6)]
    before = refreshes(sandbox)
    results = await asyncio.gather(*(source.current() for source in sources))
    assert refreshes(sandbox) == before + 1
    assert len({result.secrets["access_token"] for result in results}) == 1


async def test_a_refused_refresh_marks_the_connection_for_reconnection(
    committed: async_sessionmaker[AsyncSession],
    redis: Redis,
    sandbox: httpx.Client,
    sandbox_url: str,
    account_id: int,
) -> None:
    connection = await connect(committed, sandbox, account_id, expires_in=timedelta(seconds=-5))
    provider = sandbox_provider(sandbox, sandbox_url)
    stale = await credentials_for(connection, committed, redis, provider).load()
    # Someone else spends the refresh token behind Junction's back.
    await provider.refresh(stale.secrets, stale.details)
    credentials = credentials_for(connection, committed, redis, provider)
    with pytest.raises(NeedsReauth, match="amoCRM refused the refresh token"):
        await credentials.current()
    async with committed() as session:
        scope_to_tenant(session, connection.tenant_id)
        row = await session.scalar(select(Connection).where(Connection.id == connection.id))
    assert row is not None
    assert row.status is ConnectionStatus.needs_reauth
    with pytest.raises(NeedsReauth, match="needs to be reconnected"):
        await credentials.current()


async def test_a_401_refreshes_once_and_the_call_succeeds(
    committed: async_sessionmaker[AsyncSession],
    redis: Redis,
    sandbox: httpx.Client,
    sandbox_url: str,
    account_id: int,
) -> None:
    connection = await connect(committed, sandbox, account_id)
    credentials = credentials_for(
        connection, committed, redis, sandbox_provider(sandbox, sandbox_url)
    )
    sandbox.post(f"/_sandbox/accounts/{account_id}/expire-access-tokens")
    limiter = AccountRateLimiter(redis, f"test-{uuid.uuid4().hex}")
    before = refreshes(sandbox)
    async with AmoClient(sandbox_url, AccessTokens(credentials), limiter) as amo:
        assert (await amo.account())["id"] == account_id
    assert refreshes(sandbox) == before + 1
    assert (await credentials.load()).version == 1


async def test_the_secret_goes_only_to_amocrm_hosts(
    sandbox: httpx.Client, sandbox_url: str
) -> None:
    from junction.plugins.interfaces import CredentialsRejected

    provider = sandbox_provider(sandbox, sandbox_url)
    with pytest.raises(CredentialsRejected, match="is not an amoCRM account domain"):
        await provider.refresh({"refresh_token": "r"}, {"domain": "evil.example.com"})


async def test_a_renamed_account_is_found_on_its_new_domain(
    committed: async_sessionmaker[AsyncSession],
    redis: Redis,
    sandbox: httpx.Client,
    sandbox_url: str,
    account_id: int,
) -> None:
    # Both names reach the sandbox; it tells them apart by the Host header.
    new_base = sandbox_url.replace("127.0.0.1", "localhost")
    new_host = new_base.split("://", 1)[1]
    integration = sandbox.get("/_sandbox/integration").json()
    provider = AmoProvider(
        AmoSettings(
            client_id=integration["client_id"],
            client_secret=integration["client_secret"],
            redirect_uri=integration["redirect_uri"],
            extra_hosts=[sandbox_url, new_base],
        )
    )
    connection = await connect(committed, sandbox, account_id, expires_in=timedelta(seconds=-5))
    sandbox.patch(
        f"/_sandbox/accounts/{account_id}", json={"host": new_host, "subdomain": "renamed"}
    )
    credentials = credentials_for(connection, committed, redis, provider)
    current = await credentials.current()
    assert current.details["domain"] == new_host
    assert (await credentials.load()).details["domain"] == new_host
    assert current.version == 1


async def test_the_probe_tells_working_tokens_from_dead_ones(
    sandbox: httpx.Client, sandbox_url: str, account_id: int
) -> None:
    provider = sandbox_provider(sandbox, sandbox_url)
    host = sandbox_url.split("://", 1)[1]
    token = sandbox.post(f"/_sandbox/accounts/{account_id}/tokens", json={}).json()["access_token"]
    working = await provider.probe({"access_token": token}, {"domain": host})
    assert working.ok
    assert working.detail == "account Test account"
    dead = await provider.probe({"access_token": "dead"}, {"domain": host})
    assert (dead.ok, dead.detail) == (False, "amoCRM answered 401")
    foreign = await provider.probe({"access_token": token}, {"domain": "evil.example.com"})
    assert not foreign.ok
    assert "is not an amoCRM account domain" in foreign.detail
