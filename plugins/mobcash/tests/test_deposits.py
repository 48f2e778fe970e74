"""Deposits against the MobCash sandbox over HTTP: money moves once, or a person decides."""

from __future__ import annotations

import re
import uuid
from datetime import timedelta

import pytest
from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from junction.accounts.capture import MailCapture
from junction.alerts.delivery import deliver_due
from junction.alerts.models import Alert, AlertChannel, ChannelKind
from junction.alerts.raising import raise_due_alerts
from junction.audit.models import ActorType
from junction.connections.models import Connection, ConnectionStatus
from junction.db.base import utcnow
from junction.db.tenancy import scope_to_tenant
from junction.events.models import Event, EventStatus, PauseCause
from junction.events.processing import process_event
from junction.events.replay import ReplayFilter, replay
from junction.events.review import resolve
from junction.events.sweeper import resume_paused_events
from junction.plugins.interfaces import AuthorizationError
from tests.factories import EventFactory
from tests.support.events import reload_event
from tests.support.mail import mail_to
from tests.support.mobcash_sandbox import Desk


def _request(desk: Desk, amount: str = "150.00") -> Event:
    request_id = f"r-{uuid.uuid4().hex[:10]}"
    made: Event = EventFactory(
        endpoint=desk.endpoint,
        payload={"request_id": request_id, "payer_id": desk.player, "amount": amount},
        idempotency_key=f"deposit:{request_id}",
    )
    return made


async def _run(desk: Desk, session: AsyncSession, event: Event) -> Event:
    await session.commit()
    await process_event(desk.runtime, event.tenant_id, event.id)
    return await reload_event(session, event)


async def test_a_deposit_tops_the_player_up_once_even_when_replayed(
    desk: Desk, session: AsyncSession
) -> None:
    await desk.connect(desk.manual_fields())
    event = await _run(desk, session, _request(desk))
    assert event.status is EventStatus.done, event.last_error
    assert event.result is not None
    assert event.result["nickname"] == "lucky"
    assert desk.balance() == "150.00"
    assert desk.state()["balance"] == "850.00"

    scope_to_tenant(session, desk.tenant_id)
    assert await replay(session, desk.runtime.queue, ReplayFilter(event_ids=(event.id,))) == 1
    again = await _run(desk, session, event)
    assert again.status is EventStatus.done
    assert again.result == event.result
    assert desk.balance() == "150.00"
    assert len(desk.state()["deposits"]) == 1


async def test_bad_requests_fail_saying_why_and_move_nothing(
    desk: Desk, session: AsyncSession
) -> None:
    await desk.connect(desk.manual_fields())
    unknown = _request(desk)
    unknown.payload = {**unknown.payload, "payer_id": "nobody"}
    failed = await _run(desk, session, unknown)
    assert failed.status is EventStatus.failed
    assert failed.last_error == "MobCash knows no player 'nobody'"
    negative = await _run(desk, session, _request(desk, "-5"))
    assert negative.last_error == "'amount' must be more than 0, not -5"
    too_much = await _run(desk, session, _request(desk, "5000"))
    assert too_much.status is EventStatus.retrying
    assert "balance is too low" in str(too_much.last_error)
    assert desk.state()["deposits"] == []


async def test_a_timeout_after_the_deposit_is_applied_waits_for_a_person(
    desk: Desk, session: AsyncSession
) -> None:
    await desk.connect(desk.manual_fields())
    desk.sandbox.patch("/_sandbox/options", json={"delay_next_deposit": 4})
    event = await _run(desk, session, _request(desk))
    assert event.status is EventStatus.needs_review, event.last_error
    assert "may or may not have been made" in str(event.last_error)
    assert event.result is not None
    review = event.result["review"]
    assert review["payer_id"] == desk.player
    assert review["amount"] == "150.00"
    assert review["request_id"] == event.payload["request_id"]
    # The deposit was made exactly once, and nothing tries it again.
    assert len(desk.state()["deposits"]) == 1
    scope_to_tenant(session, desk.tenant_id)
    assert await replay(session, desk.runtime.queue, ReplayFilter(event_ids=(event.id,))) == 0
    await process_event(desk.runtime, event.tenant_id, event.id)
    assert (await reload_event(session, event)).status is EventStatus.needs_review
    assert len(desk.state()["deposits"]) == 1

    scope_to_tenant(session, desk.tenant_id)
    resolved = await resolve(
        session,
        event.id,
        applied=True,
        note="seen in MobCash's operations",
        actor_type=ActorType.user,
        actor_id="operator",
    )
    assert resolved is not None
    assert resolved.status is EventStatus.done
    assert resolved.result is not None
    assert resolved.result["resolution"]["applied"] is True


async def test_an_expired_pasted_token_pauses_alerts_and_a_new_one_resumes(
    desk: Desk, session: AsyncSession, mail_capture: MailCapture
) -> None:
    ops = f"ops-{uuid.uuid4().hex[:8]}@example.com"
    session.add(
        AlertChannel(tenant_id=desk.tenant_id, kind=ChannelKind.email, name="Ops", recipients=[ops])
    )
    connection = await desk.connect(desk.manual_fields())
    desk.sandbox.post(f"/_sandbox/cashboxes/{desk.cashbox['code']}/expire-tokens")
    events = [_request(desk) for _ in range(2)]
    for event in events:
        paused = await _run(desk, session, event)
        assert paused.status is EventStatus.paused, paused.last_error
        assert paused.pause_cause is PauseCause.connection
    await raise_due_alerts(desk.runtime)
    await deliver_due(desk.runtime)
    mail = mail_to(mail_capture, ops, "MobCash connection")
    assert "2 events are paused" in mail.body
    assert desk.state()["deposits"] == []

    # A paste that does not work replaces nothing.
    stale = {**desk.manual_fields(), "access_token": "ory_at_expired_long_ago"}
    refused = await desk.paste(stale)
    assert refused.status_code == 400
    assert "MobCash refused the access token" in refused.json()["error"]["message"]
    [still] = (await desk.api.get("/api/connections")).json()
    assert still["status"] == ConnectionStatus.needs_reauth.value

    replaced = await desk.connect(desk.manual_fields())
    assert replaced["id"] == connection["id"]
    assert replaced["status"] == ConnectionStatus.healthy.value
    assert await resume_paused_events(desk.runtime) == 2
    for event in events:
        await process_event(desk.runtime, event.tenant_id, event.id)
        assert (await reload_event(session, event)).status is EventStatus.done
    assert len(desk.state()["deposits"]) == 2
    await raise_due_alerts(desk.runtime)
    scope_to_tenant(session, desk.tenant_id)
    kinds = [a.kind.value for a in await session.scalars(select(Alert).order_by(Alert.created_at))]
    assert kinds == ["broken", "recovered"]


async def test_a_cash_desk_logs_in_again_by_itself_with_no_pause(
    desk: Desk, session: AsyncSession
) -> None:
    connection = await desk.connect(desk.cashbox_fields())
    logins = desk.sandbox.get("/_sandbox/stats").json()["logins"]
    # The token dies early (a 401): the cash desk logs in again and the deposit goes on.
    desk.sandbox.post(f"/_sandbox/cashboxes/{desk.cashbox['code']}/expire-tokens")
    first = await _run(desk, session, _request(desk))
    assert first.status is EventStatus.done, first.last_error
    assert first.attempts == 1
    # The token is about to expire: renewed before it is used.
    scope_to_tenant(session, desk.tenant_id)
    await session.execute(
        update(Connection)
        .where(Connection.id == uuid.UUID(connection["id"]))
        .values(expires_at=utcnow() + timedelta(seconds=30))
    )
    second = await _run(desk, session, _request(desk))
    assert second.status is EventStatus.done, second.last_error
    assert desk.sandbox.get("/_sandbox/stats").json()["logins"] == logins + 2
    assert len(desk.state()["deposits"]) == 2


async def test_connecting_refuses_what_would_not_work(desk: Desk, mobcash_url: str) -> None:
    provider = desk.runtime.registry.providers["mobcash"]
    fields = desk.cashbox_fields()
    for broken, message in [
        ({**fields, "password": "wrong"}, "MobCash refused the cash desk's log-in"),
        ({**fields, "base_url": "http://mobcash.example.com"}, "must start with https://"),
        ({"mode": "manual", "base_url": mobcash_url}, "location: Field required"),
    ]:
        with pytest.raises(AuthorizationError, match=re.escape(message)):
            await provider.connect_with_credentials(broken)
    probe = await provider.probe(
        {"access_token": "ory_at_dead", "user_id": "1", "session_id": "x"},
        {"base_url": mobcash_url, "location": "Kassa 1"},
    )
    assert not probe.ok
    assert probe.refused
