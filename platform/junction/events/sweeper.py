"""The sweeper: Redis is a fast path, the database is the record.

Periodically enqueue every event that is due and not done and whose job is neither queued
nor running: new events whose job was lost (Redis restarted, the API died before
enqueueing), retries whose deferred job was lost, and events whose worker died
mid-attempt (lease expired). A repeat is harmless: claiming lets one worker only take an
event.
"""

from __future__ import annotations

from sqlalchemy import and_, or_, select, update

from junction.connections.models import Connection, ConnectionStatus
from junction.db.base import utcnow
from junction.db.tenancy import cross_tenant
from junction.events.models import Event, EventStatus, PauseCause, is_due
from junction.runtime import Runtime
from junction.tenancy.models import Tenant, TenantStatus

SWEEP_BATCH = 1000
RESUMABLE = (ConnectionStatus.healthy, ConnectionStatus.expiring)


async def resume_paused_events(runtime: Runtime) -> int:
    """Make due again every paused event whose cause is gone: its connection is healthy,
    its workspace active again."""
    now = utcnow()
    async with runtime.sessionmaker() as session:
        with cross_tenant(session, "sweeper: resume paused events"):
            healthy = select(Connection.id).where(Connection.status.in_(RESUMABLE))
            active = select(Tenant.id).where(Tenant.status == TenantStatus.active)
            result = await session.execute(
                update(Event)
                .where(
                    Event.status == EventStatus.paused,
                    or_(
                        Event.paused_connection_id.in_(healthy.scalar_subquery()),
                        and_(
                            Event.pause_cause == PauseCause.tenant_suspended,
                            Event.tenant_id.in_(active.scalar_subquery()),
                        ),
                    ),
                )
                .values(
                    status=EventStatus.retrying,
                    next_attempt_at=now,
                    paused_connection_id=None,
                    pause_cause=None,
                    updated_at=now,
                )
                .execution_options(synchronize_session=False)
            )
            await session.commit()
    return int(result.rowcount)  # type: ignore[attr-defined]


async def sweep_due_events(runtime: Runtime) -> int:
    """Enqueue up to `SWEEP_BATCH` due events, oldest first; returns how many it enqueued."""
    now = utcnow()
    async with runtime.sessionmaker() as session:
        with cross_tenant(session, "sweeper"):
            rows = (
                await session.execute(
                    select(Event.tenant_id, Event.id, Event.attempts)
                    .where(
                        or_(
                            and_(is_due(Event.status), Event.next_attempt_at <= now),
                            and_(Event.status == EventStatus.processing, Event.locked_until < now),
                        )
                    )
                    .order_by(Event.next_attempt_at)
                    .limit(SWEEP_BATCH)
                )
            ).all()
    due = [(tenant_id, event_id, attempts) for tenant_id, event_id, attempts in rows]
    return await runtime.queue.requeue_missing(due)
