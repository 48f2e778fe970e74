"""The events API: a tenant reads its events and every attempt made on them, replays
them, and resolves those whose outcome needed a person's review."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Query
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy.ext.asyncio import AsyncSession

from junction.api.deps import Caller, CallerDep, ManagerDep, RuntimeDep, SessionDep
from junction.api.errors import ApiError
from junction.audit.models import ActorType
from junction.events import service
from junction.events.models import DUE_STATUSES, EventStatus
from junction.events.replay import (
    REPLAYABLE,
    ReplayFilter,
    record_replay,
    replay,
    replay_progress,
)
from junction.events.review import NotUnderReview, resolve
from junction.events.schemas import (
    AttemptOut,
    EventDetail,
    EventPage,
    EventSummary,
    ReplayProgress,
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
    if event.status is EventStatus.needs_review:
        raise ApiError(
            409,
            "needs_review",
            "whether the event's outside effect happened is unknown: check, then resolve it "
            "(POST /api/events/{id}/resolve) before running it again",
        )
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
    replay_id = uuid.uuid4()
    count = await replay(session, runtime.queue, chosen, replay_id=replay_id)
    await record_replay(
        session,
        caller.tenant_id,
        chosen,
        count,
        actor_type=caller.actor_type,
        actor_id=caller.actor_id,
    )
    return ReplayResult(replayed=count, replay_id=replay_id)


@router.get("/replays/{replay_id}", operation_id="events-replay-progress")
async def replay_state(
    replay_id: uuid.UUID, caller: CallerDep, session: SessionDep
) -> ReplayProgress:
    """Where a replay's events are now, to follow it until none is pending."""
    counts = await replay_progress(session, replay_id)
    if not counts:
        raise ApiError(
            404, "not_found", "no such replay, or all its events have been replayed again since"
        )
    pending = sum(counts.get(status, 0) for status in DUE_STATUSES) + counts.get(
        EventStatus.processing, 0
    )
    return ReplayProgress(
        replay_id=replay_id,
        total=sum(counts.values()),
        pending=pending,
        done=counts.get(EventStatus.done, 0),
        failed=counts.get(EventStatus.failed, 0),
        paused=counts.get(EventStatus.paused, 0),
        needs_review=counts.get(EventStatus.needs_review, 0),
    )


class ResolveIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    # Whether the outside effect happened (checked in the outside system).
    applied: bool
    note: str = Field(default="", max_length=1000)


@router.post("/{event_id}/resolve", operation_id="events-resolve")
async def resolve_event(
    event_id: uuid.UUID, body: ResolveIn, caller: ManagerDep, session: SessionDep
) -> EventSummary:
    """Settle an event under review: `applied` makes it done, otherwise failed (and then
    replayable)."""
    return await resolve_as(session, event_id, body, caller.actor_type, caller.actor_id)


async def resolve_as(
    session: AsyncSession,
    event_id: uuid.UUID,
    body: ResolveIn,
    actor_type: ActorType,
    actor_id: str | None,
) -> EventSummary:
    try:
        event = await resolve(
            session,
            event_id,
            applied=body.applied,
            note=body.note,
            actor_type=actor_type,
            actor_id=actor_id,
        )
    except NotUnderReview as exc:
        raise ApiError(
            409, "not_under_review", f"the event is not waiting for review ({exc})"
        ) from None
    if event is None:
        raise ApiError(404, "not_found", "no such event")
    return EventSummary.model_validate(event)
