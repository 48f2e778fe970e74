"""Reading events back in tests, across the tenancy guard and the session's cache."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from junction.db.tenancy import cross_tenant
from junction.events.models import Event, EventAttempt


async def reload_events(session: AsyncSession, events: list[Event]) -> list[Event]:
    """The events as stored now, in the order given."""
    session.expunge_all()
    with cross_tenant(session, "test: read events back"):
        rows = {
            row.id: row
            for row in await session.scalars(
                select(Event).where(Event.id.in_([event.id for event in events]))
            )
        }
    return [rows[event.id] for event in events]


async def reload_event(session: AsyncSession, event: Event) -> Event:
    [stored] = await reload_events(session, [event])
    return stored


async def attempts_of(session: AsyncSession, event: Event) -> list[EventAttempt]:
    with cross_tenant(session, "test: read attempts"):
        rows = await session.scalars(
            select(EventAttempt)
            .where(EventAttempt.event_id == event.id)
            .order_by(EventAttempt.number)
        )
        return list(rows.all())
