"""The events API: a tenant reads its events and every attempt made on them, and
replays them."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Query
from sqlalchemy.ext.asyncio import AsyncSession

from junction.api.deps import Caller, CallerDep, ManagerDep, RuntimeDep, SessionDep
from junction.api.errors import ApiError
from junction.events import service
from junction.events.models import EventStatus
from junction.events.replay import REPLAYABLE, ReplayFilter, record_replay, replay
from junction.events.schemas import (
    AttemptOut,
    EventDetail,
    EventPage,
    EventSummary,
    ReplayRequest,
    ReplayResult,
)
from junction.runtime import Runtime
from junction.validation import UtcDatetime

router = APIRouter(prefix="/api/events", tags=["events"])


@router.get("", operation_id="events-list")
async def list_events(
    caller: CallerDep,
    session: SessionDep,
    status: EventStatus | None = None,
    endpoint_id: uuid.UUID | None = None,
    received_after: UtcDatetime | None = None,
    received_before: UtcDatetime | None = None,
    key: Annotated[
        str | None, Query(max_length=255, description="Part of the idempotency key")
    ] = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
    before: str | None = None,
) -> EventPage:
    """The tenant's events, newest first, filtered."""
    chosen = service.EventFilter(
        status=status,
        endpoint_id=endpoint_id,
        received_after=received_after,
        received_before=received_before,
        key=key,
    )
    try:
        events, next_cursor = await service.list_events(session, chosen, limit=limit, before=before)
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
        payload_purged_at=event.payload_purged_at,
        attempt_log=[AttemptOut.model_validate(attempt) for attempt in attempts],
    )


@router.post("/{event_id}/replay", operation_id="events-replay-one", status_code=202)
async def replay_one(
    event_id: uuid.UUID, caller: ManagerDep, session: SessionDep, runtime: RuntimeDep
) -> ReplayResult:
    """Run one finished, failed or paused event again."""
    event = await service.get_event(session, event_id)
    if event is None:
        raise ApiError(404, "not_found", "no such event")
    if event.status not in REPLAYABLE:
        raise ApiError(
            409, "not_replayable", f"the event is {event.status.value}; it is still on its way"
        )
    return await _replay(session, runtime, caller, ReplayFilter(event_ids=(event_id,)))


@router.post("/replay", operation_id="events-replay", status_code=202)
async def replay_many(
    request: ReplayRequest, caller: ManagerDep, session: SessionDep, runtime: RuntimeDep
) -> ReplayResult:
    """Run again every finished, failed or paused event that matches the filter."""
    chosen = ReplayFilter(
        status=request.status,
        endpoint_id=request.endpoint_id,
        received_after=request.received_after,
        received_before=request.received_before,
    )
    return await _replay(session, runtime, caller, chosen)


async def _replay(
    session: AsyncSession, runtime: Runtime, caller: Caller, chosen: ReplayFilter
) -> ReplayResult:
    count = await replay(session, runtime.queue, chosen)
    await record_replay(
        session,
        caller.tenant_id,
        chosen,
        count,
        actor_type=caller.actor_type,
        actor_id=caller.actor_id,
    )
    return ReplayResult(replayed=count)
