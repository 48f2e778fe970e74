"""Setting up against the amoCRM sandbox: a provider pointed at it, a connected account
stored as Junction would store it, and the spec a caller process (`amo_caller.py`) runs
from. Shared by these tests and `bench/amocrm_client.py`."""

from __future__ import annotations

import uuid
from datetime import timedelta
from typing import Any

import httpx
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from junction.connections.models import Connection
from junction.db.base import utcnow
from junction.tenancy.models import Tenant
from junction_amocrm.provider import AmoProvider
from junction_amocrm.settings import AmoSettings
from tests.factories import secretbox


def sandbox_provider(sandbox: httpx.Client, sandbox_url: str) -> AmoProvider:
    integration = sandbox.get("/_sandbox/integration").json()
    return AmoProvider(
        AmoSettings(
            client_id=integration["client_id"],
            client_secret=integration["client_secret"],
            redirect_uri=integration["redirect_uri"],
            extra_hosts=[sandbox_url],
        )
    )


async def connect(
    sessionmaker: async_sessionmaker[AsyncSession],
    sandbox: httpx.Client,
    account_id: int,
    *,
    expires_in: timedelta = timedelta(hours=24),
) -> Connection:
    tokens = sandbox.post(f"/_sandbox/accounts/{account_id}/tokens", json={}).json()
    host = sandbox.get("/_sandbox/integration").json()["host"]
    async with sessionmaker() as session:
        tenant = Tenant(id=uuid.uuid4(), slug=f"t-{uuid.uuid4().hex[:8]}", name="T")
        session.add(tenant)
        await session.flush()
        connection = Connection(
            id=uuid.uuid4(),
            tenant_id=tenant.id,
            provider="amocrm",
            name="amoCRM",
            account_ref=str(account_id),
            secrets_encrypted=secretbox.encrypt_json(
                {"access_token": tokens["access_token"], "refresh_token": tokens["refresh_token"]}
            ),
            details={"domain": host, "account_id": account_id},
            expires_at=utcnow() + expires_in,
        )
        session.add(connection)
        await session.commit()
    return connection


def caller_spec(
    *,
    database_url: str,
    redis_url: str,
    secret_key: str,
    connection: Any,
    sandbox_url: str,
    integration: dict[str, Any],
    **extra: Any,
) -> dict[str, Any]:
    """What a caller needs: where the connection and the sandbox are, and when to start."""
    run = uuid.uuid4().hex
    return {
        "database_url": database_url,
        "redis_url": redis_url,
        "secret_key": secret_key,
        "tenant_id": str(connection.tenant_id),
        "connection_id": str(connection.id),
        "sandbox_url": sandbox_url,
        "ready_key": f"caller:{run}:ready",
        "go_key": f"caller:{run}:go",
        "amocrm": {
            "client_id": integration["client_id"],
            "client_secret": integration["client_secret"],
            "redirect_uri": integration["redirect_uri"],
            "extra_hosts": [sandbox_url],
        },
        **extra,
    }
