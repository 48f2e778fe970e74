"""Processing one event: claim it, hand it to its plugin, record what happened.

Jobs may be delivered more than once and workers may die at any moment, so:

* claiming is one conditional UPDATE: only an event that is due, or whose previous
  owner's lease ran out, can be taken, and only by one worker;
* finishing is fenced by the attempt number: a worker that lost its lease cannot
  overwrite what the next owner recorded.
"""

from __future__ import annotations

import asyncio
import logging
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from pydantic import BaseModel
from sqlalchemy import and_, func, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from junction.connections.credentials import NeedsReauth
from junction.db.base import utcnow
from junction.db.tenancy import scope_to_tenant
from junction.events.models import DUE_STATUSES, AttemptOutcome, Event, EventAttempt, EventStatus
from junction.events.retries import retry_delay
from junction.intake.models import InboundEndpoint
from junction.logs import bind_contextvars, bound_contextvars, context
from junction.plugins.interfaces import AttemptLog, EventContext, Integration, PermanentError
from junction.plugins.models import PluginInstallation
from junction.plugins.registry import PluginError
from junction.runtime import Runtime

log = logging.getLogger(__name__)

# Share of the lease a plugin may use; the rest is left for recording the outcome.
PLUGIN_TIME_SHARE = 0.8
# Tolerated clock difference between the process that scheduled a retry and this one.
CLOCK_SKEW = timedelta(seconds=1)
MAX_ERROR_LENGTH = 2000


class _Retry(Exception):
    """The attempt failed for a reason worth retrying, described for a person."""


@dataclass(frozen=True)
class Handler:
    plugin: str
    integration: Integration
    config: BaseModel


async def _claim(
    session: AsyncSession, runtime: Runtime, tenant_id: uuid.UUID, event_id: uuid.UUID
) -> tuple[Event, EventAttempt] | None:
    now = utcnow()
    lease = timedelta(seconds=runtime.settings.event_lease_seconds)
    running = aliased(Event)
    in_flight = (
        select(func.count())
        .select_from(running)
        .where(
            running.tenant_id == tenant_id,
            running.status == EventStatus.processing,
            running.locked_until >= now,
        )
        .scalar_subquery()
    )
    claimable = and_(
        Event.id == event_id,
        Event.tenant_id == tenant_id,
        or_(
            and_(Event.status.in_(DUE_STATUSES), Event.next_attempt_at <= now + CLOCK_SKEW),
            and_(Event.status == EventStatus.processing, Event.locked_until < now),
        ),
        # Fairness: a tenant's flood never takes every worker.
        in_flight < runtime.settings.tenant_max_in_flight,
    )
    result = await session.execute(
        update(Event)
        .where(claimable)
        .values(
            status=EventStatus.processing,
            attempts=Event.attempts + 1,
            locked_until=now + lease,
            updated_at=now,
        )
        .execution_options(synchronize_session=False)
    )
    if result.rowcount != 1:  # type: ignore[attr-defined]
        await session.rollback()
        await _requeue_if_capped(session, runtime, tenant_id, event_id, now)
        return None
    event = await session.scalar(select(Event).where(Event.id == event_id))
    assert event is not None
    # The attempt is recorded in the claiming transaction: a claim never exists without it.
    attempt = EventAttempt(tenant_id=tenant_id, event_id=event_id, number=event.attempts, log=[])
    session.add(attempt)
    await session.commit()
    return event, attempt


async def _requeue_if_capped(
    session: AsyncSession,
    runtime: Runtime,
    tenant_id: uuid.UUID,
    event_id: uuid.UUID,
    now: datetime,
) -> None:
    """An event that was due but not claimed waits for the tenant's in-flight cap: queue it
    again at the tenant's next fair turn (this job's own id is still taken)."""
    row = (
        await session.execute(
            select(Event.status, Event.next_attempt_at, Event.attempts).where(Event.id == event_id)
        )
    ).first()
    await session.rollback()
    if row is None:
        return
    status, next_attempt_at, attempts = row
    if status in DUE_STATUSES and next_attempt_at <= now + CLOCK_SKEW:
        await runtime.queue.enqueue(
            tenant_id, event_id, attempts, job_suffix=f":after-cap:{int(now.timestamp() * 1000)}"
        )


async def _resolve_handler(session: AsyncSession, runtime: Runtime, event: Event) -> Handler:
    """Find the installed plugin this event goes to, or say why there is none."""
    installation = None
    if event.endpoint_id is not None:
        installation = await session.scalar(
            select(PluginInstallation)
            .join(InboundEndpoint, InboundEndpoint.installation_id == PluginInstallation.id)
            .where(InboundEndpoint.id == event.endpoint_id)
        )
    if installation is None:
        raise PermanentError("the endpoint is not routed to an installed plugin")
    if not installation.enabled:
        raise PermanentError(f"the plugin {installation.plugin!r} is disabled for this workspace")
    try:
        loaded = runtime.registry.plugin(installation.plugin)
        config = runtime.registry.validate_config(installation.plugin, installation.config)
    except PluginError as exc:
        # A plugin missing from this worker may be back after a deploy: retry.
        if installation.plugin not in runtime.registry.plugins:
            raise _Retry(str(exc)) from None
        raise PermanentError(str(exc)) from None
    if loaded.integration is None:
        raise PermanentError(f"the plugin {installation.plugin!r} does not process events")
    return Handler(plugin=installation.plugin, integration=loaded.integration, config=config)


async def _earlier_failures(session: AsyncSession, event_id: uuid.UUID, current: int) -> int:
    """Failed attempts since the event last settled (a replay starts the count again).

    An attempt whose worker died never recorded an outcome: it counts as a failure, so an
    event that kills its worker every time still ends as a dead letter. Paused attempts
    were not the event's failures and do not count.
    """
    settled = (
        select(func.coalesce(func.max(EventAttempt.number), 0))
        .where(
            EventAttempt.event_id == event_id,
            EventAttempt.outcome.in_((AttemptOutcome.done, AttemptOutcome.failed)),
        )
        .scalar_subquery()
    )
    count = await session.scalar(
        select(func.count())
        .select_from(EventAttempt)
        .where(
            EventAttempt.event_id == event_id,
            EventAttempt.number > settled,
            EventAttempt.number != current,
            or_(EventAttempt.outcome == AttemptOutcome.retrying, EventAttempt.outcome.is_(None)),
        )
    )
    return int(count or 0)


def _describe(exc: BaseException) -> str:
    text = str(exc) or type(exc).__name__
    if not isinstance(exc, (PermanentError, _Retry, NeedsReauth)):
        text = f"{type(exc).__name__}: {text}"
    return text[:MAX_ERROR_LENGTH]


async def process_event(
    runtime: Runtime, tenant_id: uuid.UUID, event_id: uuid.UUID
) -> EventStatus | None:
    """Run one attempt of an event. Returns its new status, or None if not ours to run."""
    with bound_contextvars(**context(tenant_id=tenant_id, event_id=event_id)):
        return await _process(runtime, tenant_id, event_id)


async def _process(
    runtime: Runtime, tenant_id: uuid.UUID, event_id: uuid.UUID
) -> EventStatus | None:
    async with runtime.sessionmaker() as session:
        scope_to_tenant(session, tenant_id)
        claimed = await _claim(session, runtime, tenant_id, event_id)
        if claimed is None:
            return None
        event, attempt = claimed
        number = attempt.number
        bind_contextvars(attempt=number)

        attempt_log = AttemptLog()
        paused_on: uuid.UUID | None = None
        outcome: AttemptOutcome
        result: dict[str, Any] | None = None
        error: str | None = None
        try:
            handler = await _resolve_handler(session, runtime, event)
            attempt.plugin = handler.plugin
            event_context = EventContext(
                tenant_id=tenant_id,
                event_id=event_id,
                attempt=number,
                payload=event.payload,
                headers=event.headers,
                config=handler.config,
                log=attempt_log,
            )
            budget = runtime.settings.event_lease_seconds * PLUGIN_TIME_SHARE
            try:
                with runtime.metrics.processing_seconds.time():
                    async with asyncio.timeout(budget):
                        result = await handler.integration.process_event(event_context)
            except TimeoutError:
                raise _Retry(f"the plugin did not finish within {budget:.0f} s") from None
            outcome = AttemptOutcome.done
        except PermanentError as exc:
            outcome, error = AttemptOutcome.failed, _describe(exc)
        except NeedsReauth as exc:
            # Not the event's fault: it waits, unfailed, until the connection is fixed.
            outcome, error = AttemptOutcome.paused, _describe(exc)
            paused_on = exc.connection_id
        except Exception as exc:  # noqa: BLE001 - any plugin failure is recorded, not raised
            error = _describe(exc)
            outcome = AttemptOutcome.retrying
            if not isinstance(exc, _Retry):
                log.warning("event %s attempt %d failed: %s", event_id, number, error)

        return await _finish(
            session, runtime, event, attempt, attempt_log, outcome, result, error, paused_on
        )


async def _finish(
    session: AsyncSession,
    runtime: Runtime,
    event: Event,
    attempt: EventAttempt,
    attempt_log: AttemptLog,
    outcome: AttemptOutcome,
    result: dict[str, Any] | None,
    error: str | None,
    paused_on: uuid.UUID | None,
) -> EventStatus:
    now = utcnow()
    values: dict[str, Any] = {
        "locked_until": None,
        "updated_at": now,
        "paused_connection_id": paused_on,
    }
    next_attempt_at = None
    if outcome is AttemptOutcome.retrying:
        failures = 1 + await _earlier_failures(session, event.id, attempt.number)
        delay = retry_delay(runtime.settings.retry_schedule_seconds, failures)
        if delay is None:
            outcome = AttemptOutcome.failed
            error = f"gave up after {failures} failed attempts; last error: {error}"
        else:
            next_attempt_at = now + delay
    status = EventStatus(outcome.value)
    runtime.metrics.events_processed.labels(status.value).inc()
    if status is EventStatus.retrying:
        runtime.metrics.retries.inc()
    values["status"] = status
    values["last_error"] = error
    if status is EventStatus.done:
        values.update(result=result, finished_at=now)
    elif status is EventStatus.failed:
        values["finished_at"] = now
    elif status is EventStatus.retrying:
        values["next_attempt_at"] = next_attempt_at

    fenced = await session.execute(
        update(Event)
        .where(
            Event.id == event.id,
            Event.tenant_id == event.tenant_id,
            Event.status == EventStatus.processing,
            Event.attempts == attempt.number,
        )
        .values(**values)
        .execution_options(synchronize_session=False)
    )
    if fenced.rowcount != 1:  # type: ignore[attr-defined]
        attempt_log.warning(
            "the lease ran out before this attempt finished; its outcome was not applied"
        )
    attempt.finished_at = now
    attempt.outcome = outcome
    attempt.error = error
    attempt.log = attempt_log.entries
    await session.commit()

    if next_attempt_at is not None and fenced.rowcount == 1:  # type: ignore[attr-defined]
        await runtime.queue.enqueue(
            event.tenant_id, event.id, attempt.number, defer_until=next_attempt_at
        )
    return status
