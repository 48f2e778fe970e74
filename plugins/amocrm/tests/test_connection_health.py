"""Health checks of amoCRM connections against the sandbox: renewals, keep-alive, alarms."""

from __future__ import annotations

from datetime import timedelta

import httpx
import pytest
from sandbox_accounts import sandbox_provider
from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from junction.alerts.models import Alert
from junction.alerts.raising import raise_due_alerts
from junction.connections.health import check_connection, check_due_connections
from junction.connections.models import Connection, ConnectionCheck, ConnectionStatus
from junction.db.base import utcnow
from junction.db.tenancy import cross_tenant, scope_to_tenant
from junction.events.models import EventStatus, PauseCause
from junction.runtime import Runtime
from junction_amocrm.provider import jwt_expiry
from tests.factories import EventFactory, secretbox
from tests.support.amocrm_sandbox import amocrm_environment, connect, moving_clock


@pytest.fixture(autouse=True)
def _amocrm_configured(
    monkeypatch: pytest.MonkeyPatch, sandbox: httpx.Client, sandbox_url: str
) -> None:
    for name, value in amocrm_environment(sandbox, sandbox_url).items():
        monkeypatch.setenv(name, value)


async def _row(session: AsyncSession, connection: Connection) -> Connection:
    scope_to_tenant(session, connection.tenant_id)
    row = await session.scalar(
        select(Connection)
        .where(Connection.id == connection.id)
        .execution_options(populate_existing=True)
    )
    assert row is not None
    return row


async def test_a_working_connection_is_probed_and_its_next_check_spread(
    runtime: Runtime, session: AsyncSession, sandbox: httpx.Client, account_id: int
) -> None:
    connection = await connect(runtime.sessionmaker, sandbox, account_id)
    check = await check_connection(runtime, connection.tenant_id, connection.id)
    assert check is not None
    assert check.status is ConnectionStatus.healthy
    assert not check.refreshed
    assert check.detail == "account Test account"
    row = await _row(session, connection)
    assert row.next_check_at is not None
    assert timedelta(minutes=47) < row.next_check_at - check.checked_at < timedelta(minutes=73)
    [recorded] = await session.scalars(
        select(ConnectionCheck).where(ConnectionCheck.connection_id == connection.id)
    )
    assert recorded.status is ConnectionStatus.healthy


async def test_an_expiring_token_is_renewed_by_the_check(
    runtime: Runtime, session: AsyncSession, sandbox: httpx.Client, account_id: int
) -> None:
    connection = await connect(
        runtime.sessionmaker, sandbox, account_id, expires_in=timedelta(seconds=-5)
    )
    check = await check_connection(runtime, connection.tenant_id, connection.id)
    assert check is not None
    assert check.refreshed
    assert check.status is ConnectionStatus.healthy
    row = await _row(session, connection)
    assert row.token_version == 1
    assert row.expires_at is not None
    assert row.expires_at > utcnow()


async def test_an_unused_connection_is_kept_alive(
    runtime: Runtime, session: AsyncSession, sandbox: httpx.Client, account_id: int
) -> None:
    """amoCRM's refresh tokens die after three months unused: renewed monthly anyway."""
    connection = await connect(runtime.sessionmaker, sandbox, account_id)
    scope_to_tenant(session, connection.tenant_id)
    await session.execute(
        update(Connection)
        .where(Connection.id == connection.id)
        .values(refreshed_at=utcnow() - timedelta(days=31))
    )
    await session.commit()
    check = await check_connection(runtime, connection.tenant_id, connection.id)
    assert check is not None
    assert check.refreshed
    row = await _row(session, connection)
    assert row.refreshed_at is not None
    assert utcnow() - row.refreshed_at < timedelta(minutes=1)
    # A month later it is due again; not before.
    again = await check_connection(runtime, connection.tenant_id, connection.id)
    assert again is not None
    assert not again.refreshed


async def test_a_dead_refresh_token_needs_a_person(
    runtime: Runtime,
    session: AsyncSession,
    sandbox: httpx.Client,
    sandbox_url: str,
    account_id: int,
) -> None:
    connection = await connect(
        runtime.sessionmaker, sandbox, account_id, expires_in=timedelta(seconds=-5)
    )
    # Someone else spends the refresh token behind Junction's back.
    row = await _row(session, connection)
    stored = secretbox.decrypt_json(row.secrets_encrypted)
    await sandbox_provider(sandbox, sandbox_url).refresh(stored, row.details)
    EventFactory(
        endpoint=None,
        endpoint_id=None,
        tenant_id=connection.tenant_id,
        status=EventStatus.paused,
        pause_cause=PauseCause.connection,
        paused_connection_id=connection.id,
    )
    await session.commit()
    check = await check_connection(runtime, connection.tenant_id, connection.id)
    assert check is not None
    assert check.status is ConnectionStatus.needs_reauth
    assert "reconnect amoCRM" in check.detail
    assert (await _row(session, connection)).status is ConnectionStatus.needs_reauth
    # Nothing more is tried until someone reconnects it.
    waiting = await check_connection(runtime, connection.tenant_id, connection.id)
    assert waiting is not None
    assert waiting.detail == "waiting for someone to reconnect it"


async def test_the_cron_checks_only_what_is_due(
    runtime: Runtime, session: AsyncSession, sandbox: httpx.Client, account_id: int
) -> None:
    due = await connect(runtime.sessionmaker, sandbox, account_id)
    later = await connect(runtime.sessionmaker, sandbox, account_id)
    with cross_tenant(session, "test: schedule two checks"):
        await session.execute(
            update(Connection)
            .where(Connection.id == later.id)
            .values(next_check_at=utcnow() + timedelta(minutes=30))
        )
        await session.execute(
            update(Connection)
            .where(Connection.id == due.id)
            .values(next_check_at=utcnow() - timedelta(seconds=1))
        )
    await session.commit()
    assert await check_due_connections(runtime) >= 1
    with cross_tenant(session, "test: which were checked"):
        checked = set(await session.scalars(select(ConnectionCheck.connection_id)))
    assert due.id in checked
    assert later.id not in checked


async def test_a_long_lived_token_is_reported_before_and_when_it_expires(
    runtime: Runtime, session: AsyncSession, sandbox: httpx.Client, account_id: int
) -> None:
    """A pasted token cannot be renewed: its JWT `exp` says when a person must act."""
    token = sandbox.post(
        f"/_sandbox/accounts/{account_id}/long-lived-token", json={"seconds": 2 * 86400}
    ).json()["access_token"]
    connection = await connect(runtime.sessionmaker, sandbox, account_id)
    scope_to_tenant(session, connection.tenant_id)
    await session.execute(
        update(Connection)
        .where(Connection.id == connection.id)
        .values(
            secrets_encrypted=secretbox.encrypt_json({"access_token": token}),
            expires_at=jwt_expiry(token),
        )
    )
    await session.commit()
    with moving_clock(sandbox, account_id) as clock:
        soon = await check_connection(runtime, connection.tenant_id, connection.id)
        assert soon is not None
        assert soon.status is ConnectionStatus.expiring
        assert not soon.refreshed
        await raise_due_alerts(runtime)
        clock.advance(timedelta(days=2, hours=1))
        gone = await check_connection(runtime, connection.tenant_id, connection.id)
        assert gone is not None
        assert gone.status is ConnectionStatus.expired
        assert gone.detail == "the amoCRM credentials have expired; paste new ones or reconnect"
        await raise_due_alerts(runtime)
    subjects = [
        alert.subject
        for alert in await session.scalars(
            select(Alert).where(Alert.connection_id == connection.id).order_by(Alert.created_at)
        )
    ]
    assert subjects == [
        "amoCRM connection “amoCRM” expires soon",
        "amoCRM connection “amoCRM” expired",
    ]
