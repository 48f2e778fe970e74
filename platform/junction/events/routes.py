"""The events API: a tenant reads its events and every attempt made on them."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Query

from junction.api.deps import CallerDep, SessionDep
from junction.api.errors import ApiError
from junction.events import service
from junction.events.models import EventStatus
from junction.events.schemas import AttemptOut, EventDetail, EventPage, EventSummary

router = APIRouter(prefix="/api/events", tags=["events"])


@router.get("", operation_id="events-list")
async def list_events(
    caller: CallerDep,
    session: SessionDep,
    status: EventStatus | None = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
    before: str | None = None,
) -> EventPage:
    """The tenant's events, newest first."""
    try:
        events, next_cursor = await service.list_events(
            session, status=status, limit=limit, before=before
        )
    except service.CursorError as exc:
        raise ApiError(400, "invalid_cursor", str(exc), field="before") from None
    return EventPage(
        items=[EventSummary.model_validate(event) for event in events], next_cursor=next_cursor
    )


@router.get("/{event_id}", operation_id="events-get")
async def get_event(event_id: uuid.UUID, caller: CallerDep, session: SessionDep) -> EventDetail:
    """One event with its payload, result, and every attempt's log."""
    event = await service.get_event(session, event_id)
    if event is None:
        raise ApiError(404, "not_found", "no such event")
    attempts = await service.list_attempts(session, event_id)
    summary = EventSummary.model_validate(event).model_dump()
    return EventDetail(
        **summary,
        idempotency_key=event.idempotency_key,
        content_type=event.content_type,
        payload=event.payload,
        headers=event.headers,
        result=event.result,
        attempt_log=[AttemptOut.model_validate(attempt) for attempt in attempts],
    )
