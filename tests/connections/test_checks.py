"""Health checks of connections whose renewal cannot finish: recorded as failed, and the
cron goes on to the others. The provider is the contract test plugin's."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from datetime import timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from junction.connections.health import check_due_connections
from junction.connections.models import Connection, ConnectionCheck, ConnectionStatus
from junction.db.base import utcnow
from junction.db.tenancy import scope_to_tenant
from junction.plugins.registry import build_registry
from junction.runtime import Runtime, open_runtime
from junction.settings import Settings
from tests.factories import TenantFactory, secretbox
from tests.plugins import contract_plugin


@pytest.fixture
async def contract_runtime(
    settings: Settings, sessionmaker: async_sessionmaker[AsyncSession], redis_url: str
) -> AsyncIterator[Runtime]:
    registry = build_registry(extra_plugins=[("contract", contract_plugin)])
    runtime = await open_runtime(
        settings, registry=registry, sessionmaker=sessionmaker, redis_url=redis_url
    )
    yield runtime
    await runtime.close()


def _connection(tenant_id: uuid.UUID, token: str) -> Connection:
    return Connection(
        id=uuid.uuid4(),
        tenant_id=tenant_id,
        provider="contract-provider",
        account_ref=token,
        name=token,
        secrets_encrypted=secretbox.encrypt_json({"token": token}),
        # Expired: the check renews before it probes.
        expires_at=utcnow() - timedelta(minutes=1),
    )


async def test_a_renewal_that_cannot_finish_is_a_failed_check_and_the_run_goes_on(
    contract_runtime: Runtime, session: AsyncSession
) -> None:
    tenant = TenantFactory()
    down = _connection(tenant.id, "unreachable")
    fine = _connection(tenant.id, "good")
    session.add_all([down, fine])
    await session.commit()
    assert await check_due_connections(contract_runtime) >= 2
    scope_to_tenant(session, tenant.id)
    checks = {
        check.connection_id: check for check in await session.scalars(select(ConnectionCheck))
    }
    assert checks[down.id].status is ConnectionStatus.error
    assert checks[down.id].detail == "the check could not finish (ConnectionError)"
    assert checks[fine.id].status is ConnectionStatus.healthy
    stored = await session.scalar(
        select(Connection).where(Connection.id == down.id).execution_options(populate_existing=True)
    )
    assert stored is not None
    assert stored.status is ConnectionStatus.error
    # Checked again at its turn, not at every run.
    assert stored.next_check_at is not None
    assert stored.next_check_at > utcnow() + timedelta(minutes=30)
