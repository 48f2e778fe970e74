"""When alerts go out: once per change of a connection's state, reminders on their
interval, retries of a channel that is down. Real database, real SMTP capture, a real
HTTP receiver; time moved with time-machine."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta

import pytest
import time_machine
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from junction.accounts.capture import MailCapture
from junction.alerts.delivery import deliver_due
from junction.alerts.models import (
    Alert,
    AlertChannel,
    AlertDelivery,
    AlertKind,
    AlertSettings,
    ChannelKind,
    DeliveryStatus,
)
from junction.alerts.raising import decide, raise_due_alerts
from junction.connections.models import (
    AlertState,
    Connection,
    ConnectionCheck,
    ConnectionStatus,
)
from junction.db.base import utcnow
from junction.db.tenancy import scope_to_tenant
from junction.events.models import EventStatus, PauseCause
from junction.runtime import Runtime
from junction.tenancy.models import Role, Tenant
from tests.factories import EventFactory, MembershipFactory, TenantFactory, UserFactory, secretbox
from tests.support.mail import mail_to
from tests.support.receiver import Receiver

NOW = datetime(2026, 3, 2, 9, 0, tzinfo=utcnow().tzinfo)


@pytest.mark.parametrize(
    ("told", "remind_at", "now_state", "expected"),
    [
        (AlertState.ok, None, AlertState.ok, None),
        (AlertState.ok, None, AlertState.broken, AlertKind.broken),
        (AlertState.ok, None, AlertState.expiring, AlertKind.expiring),
        (AlertState.expiring, NOW, AlertState.broken, AlertKind.broken),
        (AlertState.broken, NOW + timedelta(hours=1), AlertState.broken, None),
        (AlertState.broken, NOW, AlertState.broken, AlertKind.reminder),
        (AlertState.expiring, NOW - timedelta(hours=1), AlertState.expiring, AlertKind.reminder),
        (AlertState.broken, NOW + timedelta(hours=5), AlertState.ok, AlertKind.recovered),
        (AlertState.ok, NOW - timedelta(days=3), AlertState.ok, None),
    ],
)
def test_one_alert_per_change_then_reminders(
    told: AlertState,
    remind_at: datetime | None,
    now_state: AlertState,
    expected: AlertKind | None,
) -> None:
    assert decide(told, remind_at, now_state, NOW) is expected


def _connection(tenant: Tenant, status: ConnectionStatus, name: str = "Main amoCRM") -> Connection:
    return Connection(
        id=uuid.uuid4(),
        tenant_id=tenant.id,
        provider="amocrm",
        account_ref="31337",
        name=name,
        status=status,
        secrets_encrypted=secretbox.encrypt_json({"access_token": "t"}),
    )


async def _alerts(session: AsyncSession, tenant: Tenant) -> list[Alert]:
    scope_to_tenant(session, tenant.id)
    return list(
        await session.scalars(
            select(Alert).order_by(Alert.created_at).execution_options(populate_existing=True)
        )
    )


async def _run(runtime: Runtime) -> None:
    await raise_due_alerts(runtime)
    await deliver_due(runtime)


async def test_a_broken_connection_alerts_once_with_what_it_blocks(
    runtime: Runtime, session: AsyncSession, mail_capture: MailCapture
) -> None:
    tenant = TenantFactory(name="Tea Shop")
    ops = f"ops-{uuid.uuid4().hex[:8]}@example.com"
    session.add(
        AlertChannel(tenant_id=tenant.id, kind=ChannelKind.email, name="Ops", recipients=[ops])
    )
    connection = _connection(tenant, ConnectionStatus.needs_reauth)
    session.add(connection)
    await session.flush()
    for _ in range(3):
        EventFactory(
            endpoint=None,
            endpoint_id=None,
            tenant_id=tenant.id,
            status=EventStatus.paused,
            pause_cause=PauseCause.connection,
            paused_connection_id=connection.id,
        )
    session.add(
        ConnectionCheck(
            tenant_id=tenant.id,
            connection_id=connection.id,
            status=ConnectionStatus.needs_reauth,
            detail="amoCRM refused the refresh token: reconnect amoCRM",
        )
    )
    await session.commit()

    await _run(runtime)
    await _run(runtime)

    [alert] = await _alerts(session, tenant)
    assert alert.kind is AlertKind.broken
    mail = mail_to(mail_capture, ops, "amoCRM connection “Main amoCRM” stopped working")
    assert "Workspace: Tea Shop" in mail.body
    assert "3 events are paused" in mail.body
    assert "amoCRM refused the refresh token" in mail.body
    assert f"http://127.0.0.1:8000/app/connections/{connection.id}" in mail.body
    assert len(mail_capture.to(ops)) == 1


async def test_with_no_channel_the_owners_are_emailed(
    runtime: Runtime, session: AsyncSession, mail_capture: MailCapture
) -> None:
    tenant = TenantFactory()
    owner = UserFactory(email=f"owner-{uuid.uuid4().hex[:8]}@example.com")
    viewer = UserFactory(email=f"viewer-{uuid.uuid4().hex[:8]}@example.com")
    MembershipFactory(tenant=tenant, user=owner, role=Role.owner)
    MembershipFactory(tenant=tenant, user=viewer, role=Role.viewer)
    session.add(_connection(tenant, ConnectionStatus.revoked))
    await session.commit()
    await _run(runtime)
    assert "was disconnected" in mail_to(mail_capture, owner.email, "amoCRM").subject
    assert mail_capture.to(viewer.email) == []


async def test_one_failed_check_is_not_alerted_two_in_a_row_are(
    runtime: Runtime, session: AsyncSession
) -> None:
    tenant = TenantFactory()
    connection = _connection(tenant, ConnectionStatus.error)
    session.add(connection)
    await session.flush()

    def check(at: datetime) -> ConnectionCheck:
        return ConnectionCheck(
            tenant_id=tenant.id,
            connection_id=connection.id,
            checked_at=at,
            status=ConnectionStatus.error,
            detail="amoCRM answered 502",
        )

    session.add(check(utcnow() - timedelta(hours=1)))
    await session.commit()
    await raise_due_alerts(runtime)
    assert await _alerts(session, tenant) == []
    session.add(check(utcnow()))
    await session.commit()
    await raise_due_alerts(runtime)
    [alert] = await _alerts(session, tenant)
    assert alert.kind is AlertKind.broken
    assert "is failing" in alert.subject


async def test_recovery_is_announced_and_reminders_stop(
    runtime: Runtime, session: AsyncSession
) -> None:
    tenant = TenantFactory()
    session.add(AlertSettings(tenant_id=tenant.id, reminder_hours=6))
    connection = _connection(tenant, ConnectionStatus.needs_reauth)
    session.add(connection)
    await session.commit()
    with time_machine.travel(NOW, tick=True) as traveller:
        await raise_due_alerts(runtime)
        traveller.shift(timedelta(hours=6, minutes=1))
        await raise_due_alerts(runtime)
        connection.status = ConnectionStatus.healthy
        await session.commit()
        await raise_due_alerts(runtime)
        traveller.shift(timedelta(days=2))
        await raise_due_alerts(runtime)
    kinds = [alert.kind for alert in await _alerts(session, tenant)]
    assert kinds == [AlertKind.broken, AlertKind.reminder, AlertKind.recovered]
    recovered = (await _alerts(session, tenant))[-1]
    assert "works again" in recovered.subject


async def test_a_channel_that_is_down_gets_the_alert_later(
    runtime: Runtime, session: AsyncSession, receiver: Receiver
) -> None:
    tenant = TenantFactory()
    path = f"/later/{uuid.uuid4().hex}"
    session.add(
        AlertChannel(
            tenant_id=tenant.id,
            kind=ChannelKind.webhook,
            name="Pager",
            target=f"{receiver.url}{path}",
            secret_encrypted=runtime.secretbox.encrypt("whsec_test"),
        )
    )
    session.add(_connection(tenant, ConnectionStatus.expired))
    await session.commit()
    scope_to_tenant(session, tenant.id)
    with time_machine.travel(NOW, tick=True) as traveller:
        receiver.webhook_status = 503
        try:
            await _run(runtime)
        finally:
            receiver.webhook_status = 200
        [delivery] = await session.scalars(
            select(AlertDelivery).execution_options(populate_existing=True)
        )
        assert delivery.status is DeliveryStatus.pending
        assert delivery.attempts == 1
        assert delivery.last_error == "the webhook answered HTTP 503"
        await _run(runtime)  # not due yet
        assert len(receiver.at(path)) == 1
        traveller.shift(timedelta(minutes=1, seconds=5))
        await _run(runtime)
    [delivery] = await session.scalars(
        select(AlertDelivery).execution_options(populate_existing=True)
    )
    assert delivery.status is DeliveryStatus.sent
    assert delivery.attempts == 2
    [first, second] = receiver.at(path)
    assert first.json() == second.json()
    assert second.json()["type"] == "connection.broken"
    assert second.json()["connection"]["status"] == "expired"
