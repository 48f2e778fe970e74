"""Payload retention: settled events lose their content after the retention period."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from junction.db.base import utcnow
from junction.db.tenancy import cross_tenant
from junction.events.models import Event, EventStatus
from junction.events.retention import purge_expired_payloads
from junction.runtime import Runtime
from tests.factories import EventFactory, InboundEndpointFactory


async def test_old_settled_events_keep_their_outcome_but_not_their_content(
    runtime: Runtime, session: AsyncSession
) -> None:
    endpoint = InboundEndpointFactory()
    old = utcnow() - timedelta(days=31)
    payload = {"order_id": "7", "phone": "+79990000000"}
    done = EventFactory(
        endpoint=endpoint,
        status=EventStatus.done,
        received_at=old,
        payload=payload,
        headers={"x-shop": "a"},
        result={"echo": payload},
        attempts=1,
    )
    failed = EventFactory(
        endpoint=endpoint,
        status=EventStatus.failed,
        received_at=old,
        payload=payload,
        last_error="refused",
    )
    waiting = EventFactory(
        endpoint=endpoint, status=EventStatus.retrying, received_at=old, payload=payload
    )
    recent = EventFactory(endpoint=endpoint, status=EventStatus.done, payload=payload)
    await session.commit()

    assert await purge_expired_payloads(runtime) == 2
    assert await purge_expired_payloads(runtime) == 0
    session.expunge_all()
    with cross_tenant(session, "test: read back"):
        rows = {e.id: e for e in (await session.scalars(select(Event))).all()}
    for purged in (rows[done.id], rows[failed.id]):
        assert purged.payload is None
        assert purged.headers == {}
        assert purged.result is None
        assert purged.payload_purged_at is not None
    assert rows[done.id].status is EventStatus.done
    assert rows[done.id].attempts == 1
    assert rows[failed.id].last_error == "refused"
    assert rows[waiting.id].payload == payload
    assert rows[recent.id].payload == payload


async def test_a_retention_of_zero_keeps_everything(
    runtime: Runtime, session: AsyncSession
) -> None:
    EventFactory(status=EventStatus.done, received_at=utcnow() - timedelta(days=400))
    await session.commit()
    forever = runtime.settings.model_copy(update={"payload_retention_days": 0})
    runtime.settings = forever
    assert await purge_expired_payloads(runtime) == 0
