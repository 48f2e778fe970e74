"""Reading a tenant's events. The session must be scoped to the tenant."""

from __future__ import annotations

import base64
import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any, TypeVar

from sqlalchemy import Select, and_, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from junction.events.models import Event, EventAttempt, EventStatus

SelectT = TypeVar("SelectT", bound="Select[*tuple[Any, ...]]")


class CursorError(ValueError):
    pass


def encode_cursor(event: Event) -> str:
    raw = f"{event.received_at.isoformat()}|{event.id}"
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def decode_cursor(cursor: str) -> tuple[datetime, uuid.UUID]:
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
        moment, _, event_id = raw.partition("|")
        return datetime.fromisoformat(moment), uuid.UUID(event_id)
    except (ValueError, UnicodeDecodeError):
        raise CursorError("the cursor is not one this API returned") from None


@dataclass(frozen=True)
class EventFilter:
    status: EventStatus | None = None
    endpoint_id: uuid.UUID | None = None
    received_after: datetime | None = None
    received_before: datetime | None = None
    # Part of the idempotency key (the shop's order id …).
    key: str | None = None

    def apply(self, query: SelectT) -> SelectT:
        if self.status is not None:
            query = query.where(Event.status == self.status)
        if self.endpoint_id is not None:
            query = query.where(Event.endpoint_id == self.endpoint_id)
        if self.received_after is not None:
            query = query.where(Event.received_at >= self.received_after)
        if self.received_before is not None:
            query = query.where(Event.received_at < self.received_before)
        if self.key:
            query = query.where(Event.idempotency_key.contains(self.key, autoescape=True))
        return query


async def list_events(
    session: AsyncSession,
    chosen: EventFilter,
    *,
    limit: int,
    before: str | None,
) -> tuple[list[Event], str | None]:
    query = chosen.apply(
        select(Event).order_by(Event.received_at.desc(), Event.id.desc()).limit(limit + 1)
    )
    if before:
        moment, event_id = decode_cursor(before)
        query = query.where(
            or_(
                Event.received_at < moment,
                and_(Event.received_at == moment, Event.id < event_id),
            )
        )
    events = list((await session.scalars(query)).all())
    next_cursor = encode_cursor(events[limit - 1]) if len(events) > limit else None
    return events[:limit], next_cursor


async def get_event(session: AsyncSession, event_id: uuid.UUID) -> Event | None:
    return await session.scalar(select(Event).where(Event.id == event_id))


async def list_attempts(session: AsyncSession, event_id: uuid.UUID) -> list[EventAttempt]:
    rows = await session.scalars(
        select(EventAttempt).where(EventAttempt.event_id == event_id).order_by(EventAttempt.number)
    )
    return list(rows.all())
