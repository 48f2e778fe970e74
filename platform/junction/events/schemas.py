"""What the events API returns."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict

from junction.events.models import AttemptOutcome, EventStatus, PauseCause
from junction.validation import UtcDatetime


class AttemptOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    number: int
    plugin: str | None
    started_at: datetime
    finished_at: datetime | None
    outcome: AttemptOutcome | None
    error: str | None
    log: list[dict[str, Any]]


class EventSummary(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    endpoint_id: uuid.UUID | None
    status: EventStatus
    attempts: int
    received_at: datetime
    next_attempt_at: datetime
    finished_at: datetime | None
    last_error: str | None
    # While paused: why (`connection`: its credentials need a person; `tenant_suspended`;
    # `quota`: the plan's events are used up; `billing`: unpaid, or not in the plan).
    pause_cause: PauseCause | None
    paused_connection_id: uuid.UUID | None


class EventDetail(EventSummary):
    idempotency_key: str
    content_type: str
    payload: Any
    headers: dict[str, Any]
    result: dict[str, Any] | None
    # Set once the payload, headers and result were dropped under the retention policy.
    payload_purged_at: datetime | None
    attempt_log: list[AttemptOut]


class EventPage(BaseModel):
    items: list[EventSummary]
    # Pass as `before` to read the next (older) page; null on the last page.
    next_cursor: str | None


class ReplayRequest(BaseModel):
    """Which events to run again; only done, failed and paused ones are replayed."""

    model_config = ConfigDict(extra="forbid")

    status: EventStatus | None = None
    endpoint_id: uuid.UUID | None = None
    received_after: UtcDatetime | None = None
    received_before: UtcDatetime | None = None


class ReplayResult(BaseModel):
    replayed: int
    # Follow the replay at GET /api/events/replays/{replay_id}.
    replay_id: uuid.UUID


class ReplayProgress(BaseModel):
    replay_id: uuid.UUID
    # Its events by state now: waiting or running (`pending`), then how they ended.
    total: int
    pending: int
    done: int
    failed: int
    paused: int
    needs_review: int
