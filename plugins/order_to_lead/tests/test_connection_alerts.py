"""Connection health end to end: orders into the amoCRM sandbox over HTTP while time
moves forward (time-machine for Junction, the sandbox account's own clock for amoCRM),
with alerts caught by the local SMTP capture and a local webhook receiver."""

from __future__ import annotations

import itertools
import uuid
from collections.abc import Iterator
from datetime import timedelta

import httpx
import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from junction.accounts.capture import MailCapture
from junction.alerts.channels import SIGNATURE_HEADER
from junction.alerts.delivery import deliver_due
from junction.alerts.models import Alert, AlertChannel, AlertKind, ChannelKind
from junction.alerts.raising import raise_due_alerts
from junction.connections.health import check_due_connections
from junction.connections.models import Connection, ConnectionStatus
from junction.db.base import utcnow
from junction.db.tenancy import scope_to_tenant
from junction.events.models import Event, EventStatus, PauseCause
from junction.events.processing import process_event
from junction.events.sweeper import resume_paused_events
from tests.factories import secretbox
from tests.support.amocrm_sandbox import consent, moving_clock
from tests.support.events import reload_event, reload_events
from tests.support.mail import mail_to
from tests.support.order_to_lead_shop import Shop, event_for
from tests.support.receiver import Receiver, signed_by

ORDER = {"id": "A-1", "total": "10.00", "partner_id": "700100", "items": []}
DAY = timedelta(days=1)


@pytest.fixture
def unhurried(sandbox: httpx.Client) -> Iterator[None]:
    """Days pass in milliseconds here: a health check a day would be many a second, which
    amoCRM's rate limit (kept by the sandbox) would punish."""
    sandbox.patch("/_sandbox/options", json={"rate_limit": 10_000})
    try:
        yield
    finally:
        sandbox.patch("/_sandbox/options", json={"rate_limit": 7})


def _order(number: str) -> dict[str, object]:
    return {**ORDER, "id": number}


async def _alert_cycle(shop: Shop) -> None:
    """What the worker's minute crons do: checks due, alerts due, deliveries due."""
    await check_due_connections(shop.runtime)
    await raise_due_alerts(shop.runtime)
    await deliver_due(shop.runtime)


async def _connection(session: AsyncSession, shop: Shop) -> Connection:
    scope_to_tenant(session, shop.connection.tenant_id)
    row = await session.scalar(
        select(Connection)
        .where(Connection.id == shop.connection.id)
        .execution_options(populate_existing=True)
    )
    assert row is not None
    return row


async def _alerts(session: AsyncSession, shop: Shop) -> list[Alert]:
    scope_to_tenant(session, shop.connection.tenant_id)
    return list(
        await session.scalars(
            select(Alert).order_by(Alert.created_at).execution_options(populate_existing=True)
        )
    )


async def _process(shop: Shop, session: AsyncSession, event: Event) -> Event:
    await session.commit()
    await process_event(shop.runtime, event.tenant_id, event.id)
    return await reload_event(session, event)


def _channels(session: AsyncSession, shop: Shop, receiver: Receiver) -> tuple[str, str, str]:
    """An email channel and a signed webhook for the shop's tenant: (address, path, secret)."""
    address = f"ops-{uuid.uuid4().hex[:8]}@example.com"
    path = f"/alerts/{uuid.uuid4().hex}"
    secret = "whsec_" + uuid.uuid4().hex
    tenant_id = shop.connection.tenant_id
    session.add_all(
        [
            AlertChannel(
                tenant_id=tenant_id, kind=ChannelKind.email, name="Ops", recipients=[address]
            ),
            AlertChannel(
                tenant_id=tenant_id,
                kind=ChannelKind.webhook,
                name="Pager",
                target=f"{receiver.url}{path}",
                secret_encrypted=shop.runtime.secretbox.encrypt(secret),
            ),
        ]
    )
    return address, path, secret


@pytest.mark.usefixtures("unhurried")
async def test_expiring_access_tokens_are_renewed_and_no_order_fails(
    shop: Shop, session: AsyncSession
) -> None:
    shop.add_partner()
    endpoint = shop.endpoint("generic-json")
    await session.commit()
    with moving_clock(shop.sandbox, shop.account_id) as clock:
        for day in range(3):
            # A day and an hour: yesterday's access token is dead on both sides.
            clock.advance(DAY + timedelta(hours=1))
            await _alert_cycle(shop)
            done = await _process(shop, session, event_for(endpoint, _order(f"D{day}"), f"d{day}"))
            assert done.status is EventStatus.done, done.last_error
            assert done.attempts == 1
    connection = await _connection(session, shop)
    assert connection.status is ConnectionStatus.healthy
    assert connection.token_version >= 3
    assert await _alerts(session, shop) == []


@pytest.mark.usefixtures("unhurried")
async def test_a_connection_unused_past_its_refresh_tokens_life_is_kept_alive(
    shop: Shop, session: AsyncSession, sandbox: httpx.Client, account_id: int
) -> None:
    """amoCRM's refresh token dies 90 days after it is issued. Access tokens here live
    200 days, so nothing but the keep-alive renews the connection."""
    sandbox.patch(f"/_sandbox/accounts/{account_id}", json={"access_token_seconds": 200 * 86400})
    tokens = sandbox.post(f"/_sandbox/accounts/{account_id}/tokens", json={}).json()
    connection = await _connection(session, shop)
    connection.secrets_encrypted = secretbox.encrypt_json(
        {"access_token": tokens["access_token"], "refresh_token": tokens["refresh_token"]}
    )
    connection.expires_at = utcnow() + timedelta(days=200)
    shop.add_partner()
    endpoint = shop.endpoint("generic-json")
    await session.commit()
    with moving_clock(sandbox, account_id) as clock:
        for _ in range(100):
            clock.advance(DAY)
            await _alert_cycle(shop)
        done = await _process(shop, session, event_for(endpoint, _order("K1"), "k1"))
    assert done.status is EventStatus.done, done.last_error
    connection = await _connection(session, shop)
    assert connection.status is ConnectionStatus.healthy
    # Renewed on days 30, 60 and 90: the refresh token in use now is ten days old.
    assert connection.token_version == 3
    assert await _alerts(session, shop) == []


async def test_a_revoked_refresh_token_pauses_alerts_once_and_a_reconnect_resumes_all(
    shop: Shop,
    session: AsyncSession,
    shop_api: httpx.AsyncClient,
    mail_capture: MailCapture,
    receiver: Receiver,
) -> None:
    shop.add_partner()
    endpoint = shop.endpoint("generic-json")
    address, path, secret = _channels(session, shop, receiver)
    await session.commit()
    stored = secretbox.decrypt_json((await _connection(session, shop)).secrets_encrypted)
    # The integration's keys were reset in amoCRM: the refresh token is dead, and the
    # access token expires.
    shop.sandbox.post("/_sandbox/tokens/revoke", json={"token": stored["refresh_token"]})
    shop.sandbox.post(f"/_sandbox/accounts/{shop.account_id}/expire-access-tokens")

    events = [event_for(endpoint, _order(f"R{n}"), f"r{n}") for n in range(3)]
    for event in events:
        paused = await _process(shop, session, event)
        assert paused.status is EventStatus.paused, paused.last_error
        assert paused.pause_cause is PauseCause.connection
    assert (await _connection(session, shop)).status is ConnectionStatus.needs_reauth

    for _ in range(3):
        await _alert_cycle(shop)
    [alert] = await _alerts(session, shop)
    assert alert.kind is AlertKind.broken
    mail = mail_to(mail_capture, address, "stopped working")
    assert "3 events are paused" in mail.body
    assert f"/app/connections/{shop.connection.id}" in mail.body
    assert len(mail_capture.to(address)) == 1
    [hook] = receiver.at(path)
    assert signed_by(secret, hook.headers[SIGNATURE_HEADER.lower()], hook.body)
    assert hook.json()["type"] == "connection.broken"
    assert hook.json()["paused_events"] == 3

    callback = await consent(shop_api, shop.sandbox, shop.account_id)
    reconnected = await shop_api.get("/connections/amocrm/callback", params=callback)
    assert reconnected.status_code == 201, reconnected.text
    assert reconnected.json()["id"] == str(shop.connection.id)
    assert await resume_paused_events(shop.runtime) == 3
    for event in events:
        await process_event(shop.runtime, event.tenant_id, event.id)
    assert {e.status for e in await reload_events(session, events)} == {EventStatus.done}

    await _alert_cycle(shop)
    assert [a.kind for a in await _alerts(session, shop)] == [AlertKind.broken, AlertKind.recovered]
    assert "works again" in mail_to(mail_capture, address, "works again").subject
    recovered = receiver.wait_for(path, 2)[1]
    assert recovered.json()["type"] == "connection.recovered"


@pytest.mark.usefixtures("unhurried")
async def test_a_week_broken_is_one_alert_then_one_reminder_a_day(
    shop: Shop, session: AsyncSession, receiver: Receiver
) -> None:
    _, path, _ = _channels(session, shop, receiver)
    await session.commit()
    stored = secretbox.decrypt_json((await _connection(session, shop)).secrets_encrypted)
    shop.sandbox.post("/_sandbox/tokens/revoke", json={"token": stored["refresh_token"]})
    shop.sandbox.post("/_sandbox/tokens/revoke", json={"token": stored["access_token"]})
    with moving_clock(shop.sandbox, shop.account_id) as clock:
        await _alert_cycle(shop)
        assert (await _connection(session, shop)).status is ConnectionStatus.needs_reauth
        for _ in range(7 * 24):
            clock.advance(timedelta(hours=1))
            await _alert_cycle(shop)
    alerts = await _alerts(session, shop)
    assert [a.kind for a in alerts] == [AlertKind.broken] + [AlertKind.reminder] * 7
    gaps = {later.created_at - earlier.created_at for earlier, later in itertools.pairwise(alerts)}
    assert all(DAY <= gap < DAY + timedelta(minutes=5) for gap in gaps), gaps
    assert [r.json()["type"] for r in receiver.at(path)] == (
        ["connection.broken"] + ["connection.reminder"] * 7
    )
