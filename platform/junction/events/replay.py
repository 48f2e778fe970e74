"""Replaying events: run finished or stuck events again, one or a filtered set.

Only events at rest are replayed (`done`, `failed`, `paused`); one still on its way is
left alone. A replayed event keeps its attempts (their logs stay readable) and starts
again as `received`.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Select, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from junction.audit import service as audit
from junction.audit.models import ActorType
from junction.db.base import utcnow
from junction.events.models import Event, EventStatus
from junction.events.queueing import EventQueue
from junction.events.service import EventFilter

REPLAYABLE = (EventStatus.done, EventStatus.failed, EventStatus.paused)
BATCH = 500


@dataclass(frozen=True)
class ReplayFilter:
    status: EventStatus | None = None
    endpoint_id: uuid.UUID | None = None
    received_after: datetime | None = None
    received_before: datetime | None = None
    event_ids: tuple[uuid.UUID, ...] = ()

    def describe(self) -> dict[str, str]:
        """The filter as it is recorded in the audit log."""
        described = {
            "status": self.status.value if self.status else None,
            "endpoint_id": str(self.endpoint_id) if self.endpoint_id else None,
            "received_after": self.received_after.isoformat() if self.received_after else None,
            "received_before": self.received_before.isoformat() if self.received_before else None,
            "events": ",".join(str(event_id) for event_id in self.event_ids) or None,
        }
        return {key: value for key, value in described.items() if value is not None}

    def apply(self, query: Select[uuid.UUID, int, uuid.UUID]) -> Select[uuid.UUID, int, uuid.UUID]:
        chosen = EventFilter(
            status=self.status,
            endpoint_id=self.endpoint_id,
            received_after=self.received_after,
            received_before=self.received_before,
        )
        query = chosen.apply(query).where(Event.status.in_(REPLAYABLE))
        if self.event_ids:
            query = query.where(Event.id.in_(self.event_ids))
        return query


async def count_replayable(session: AsyncSession, chosen: ReplayFilter) -> int:
    query = chosen.apply(select(Event.id, Event.attempts, Event.tenant_id))
    return int(await session.scalar(select(func.count()).select_from(query.subquery())) or 0)


async def replay(
    session: AsyncSession,
    queue: EventQueue,
    chosen: ReplayFilter,
    *,
    replay_id: uuid.UUID | None = None,
    progress: Callable[[int], None] | None = None,
) -> int:
    """Replay every event `chosen` matches, in batches; returns how many. Each is marked
    with `replay_id` (when given), so `replay_progress` can follow them. The session must
    be scoped to the tenant."""
    replayed = 0
    last_id: uuid.UUID | None = None
    while True:
        query = (
            chosen.apply(select(Event.id, Event.attempts, Event.tenant_id))
            .order_by(Event.id)
            .limit(BATCH)
        )
        if last_id is not None:
            query = query.where(Event.id > last_id)
        rows = (await session.execute(query)).all()
        if not rows:
            return replayed
        last_id = rows[-1][0]
        ids = [row[0] for row in rows]
        now = utcnow()
        await session.execute(
            update(Event)
            .where(Event.id.in_(ids), Event.status.in_(REPLAYABLE))
            .values(
                status=EventStatus.received,
                next_attempt_at=now,
                last_error=None,
                finished_at=None,
                locked_until=None,
                paused_connection_id=None,
                pause_cause=None,
                replay_id=replay_id,
                updated_at=now,
            )
            .execution_options(synchronize_session=False)
        )
        await session.commit()
        for event_id, attempts, tenant_id in rows:
            await queue.enqueue(tenant_id, event_id, attempts)
        replayed += len(rows)
        if progress is not None:
            progress(len(rows))


async def record_replay(
    session: AsyncSession,
    tenant_id: uuid.UUID,
    chosen: ReplayFilter,
    count: int,
    *,
    actor_type: ActorType,
    actor_id: str | None,
) -> None:
    audit.record(
        session,
        tenant_id,
        actor_type=actor_type,
        actor_id=actor_id,
        action="events.replayed",
        target_type="event",
        target_id=chosen.event_ids[0] if len(chosen.event_ids) == 1 else None,
        diff={
            "count": {"from": None, "to": count},
            "filter": {"from": None, "to": chosen.describe()},
        },
    )
    await session.commit()


async def replay_progress(session: AsyncSession, replay_id: uuid.UUID) -> dict[EventStatus, int]:
    """How many of a replay's events are in each state now (those replayed again since
    belong to that later replay). The session must be scoped to the tenant."""
    rows = await session.execute(
        select(Event.status, func.count())
        .where(Event.replay_id == replay_id)
        .group_by(Event.status)
    )
    return {status: int(count) for status, count in rows.all()}
