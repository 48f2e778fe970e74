"""Resolving an event whose outside effect's outcome was unknown (`needs_review`).

Nothing retries such an event: a person checks the outside system and says whether the
effect happened. Applied, the event is done; not applied, it is failed, and can then be
replayed to do it once more.
"""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from junction.audit import service as audit
from junction.audit.models import ActorType
from junction.db.base import utcnow
from junction.events.models import Event, EventStatus


class NotUnderReview(Exception):
    pass


async def resolve(
    session: AsyncSession,
    event_id: uuid.UUID,
    *,
    applied: bool,
    note: str,
    actor_type: ActorType,
    actor_id: str | None,
) -> Event | None:
    """Settle an event under review; None if there is no such event, `NotUnderReview` if
    it is not under review (any more)."""
    event = await session.scalar(select(Event).where(Event.id == event_id))
    if event is None:
        return None
    if event.status is not EventStatus.needs_review:
        raise NotUnderReview(event.status.value)
    now = utcnow()
    resolution: dict[str, Any] = {
        "applied": applied,
        "note": note,
        "by": f"{actor_type.value}:{actor_id}",
        "at": now.isoformat(),
    }
    status = EventStatus.done if applied else EventStatus.failed
    error = (
        None
        if applied
        else f"resolved as not applied: {note}"
        if note
        else "resolved as not applied"
    )
    changed = await session.execute(
        update(Event)
        .where(Event.id == event_id, Event.status == EventStatus.needs_review)
        .values(
            status=status,
            result={**(event.result or {}), "resolution": resolution},
            last_error=event.last_error if applied else error,
            finished_at=now,
            updated_at=now,
        )
        .execution_options(synchronize_session=False)
    )
    if changed.rowcount != 1:  # type: ignore[attr-defined]
        await session.rollback()
        raise NotUnderReview("settled by someone else")
    audit.record(
        session,
        event.tenant_id,
        actor_type=actor_type,
        actor_id=actor_id,
        action="event.resolved",
        target_type="event",
        target_id=event.id,
        diff={
            "status": {"from": EventStatus.needs_review.value, "to": status.value},
            "note": {"from": None, "to": note},
        },
    )
    await session.commit()
    await session.refresh(event)
    return event
