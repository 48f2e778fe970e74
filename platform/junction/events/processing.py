"""Processing one event: claim it, hand it to its plugin, record what happened.

Jobs may be delivered more than once and workers may die at any moment, so:

* claiming is one conditional UPDATE: only an event that is due, or whose previous
  owner's lease ran out, can be taken, and only by one worker;
* finishing is fenced by the claim: a worker that lost its lease cannot overwrite what
  the next owner recorded.

When the event's plugin takes batches, the claim also takes up to that many more due
events of the same installation, and the plugin gets them together; each still has its
own attempt, outcome and log.
"""

from __future__ import annotations

import asyncio
import logging
import random
import time
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, cast

from pydantic import BaseModel
from sqlalchemy import (
    ColumnElement,
    ScalarSelect,
    Table,
    and_,
    bindparam,
    func,
    insert,
    or_,
    select,
    update,
)
from sqlalchemy.ext.asyncio import AsyncSession

from junction.billing.metering import admit, count
from junction.connections.credentials import NeedsReauth
from junction.db.base import utcnow
from junction.db.tenancy import scope_to_tenant
from junction.events.models import (
    DUE_STATUSES,
    AttemptOutcome,
    Event,
    EventAttempt,
    EventStatus,
    PauseCause,
    is_due,
)
from junction.events.retries import retry_delay
from junction.events.services import EventServices, StoredCheckpoint
from junction.intake.models import InboundEndpoint
from junction.logs import bind_contextvars, bound_contextvars, context
from junction.plugins.interfaces import (
    AttemptLog,
    EventContext,
    EventOutcome,
    Integration,
    OutcomeUnknown,
    PermanentError,
)
from junction.plugins.models import PluginInstallation
from junction.plugins.registry import PluginError
from junction.runtime import Runtime
from junction.tenancy.models import Tenant, TenantStatus

log = logging.getLogger(__name__)

# Share of the lease a plugin may use; the rest is left for recording the outcome.
PLUGIN_TIME_SHARE = 0.8
# Tolerated clock difference between the process that scheduled a retry and this one.
CLOCK_SKEW = timedelta(seconds=1)
MAX_ERROR_LENGTH = 2000
# How soon an event held back by its tenant's in-flight cap asks again.
CAP_RETRY = timedelta(seconds=2)
# How many batches a full batch starts after it. More than one keeps several of a
# backlog's batches running at once (up to the tenant's in-flight cap) rather than one
# after another, each waiting for a worker to pick up the last one's follow-up.
CHAIN_FAN_OUT = 4


class _Retry(Exception):
    """The attempt failed for a reason worth retrying, described for a person."""


class _Paused(Exception):
    """Something outside the event stops it; it waits, unfailed, until that is fixed."""

    def __init__(
        self, cause: PauseCause, message: str, connection_id: uuid.UUID | None = None
    ) -> None:
        super().__init__(message)
        self.cause = cause
        self.connection_id = connection_id


@dataclass(frozen=True)
class Handler:
    plugin: str
    installation_id: uuid.UUID
    integration: Integration
    config: BaseModel


# The tenant's other events, in the in-flight count. A Core alias, built once: an ORM
# alias built per claim costs more than the claim's round trip to the database.
_EVENTS = cast(Table, Event.__table__)
_RUNNING = _EVENTS.alias("running")
# Attempts are written in Core too: a batch's fifty rows, inserted and then settled,
# each in one executemany without the unit of work's bookkeeping per object.
_ATTEMPTS = cast(Table, EventAttempt.__table__)
_SETTLE_ATTEMPT = (
    update(_ATTEMPTS)
    .where(_ATTEMPTS.c.id == bindparam("attempt_id"))
    .values(
        finished_at=bindparam("new_finished_at"),
        outcome=bindparam("new_outcome"),
        error=bindparam("new_error"),
        log=bindparam("new_log"),
    )
)


@dataclass(frozen=True)
class _Attempt:
    id: uuid.UUID
    number: int


def _in_flight(tenant_id: uuid.UUID, now: datetime) -> ScalarSelect[int]:
    """The tenant's claims being worked on: a batch is one, as it takes one worker."""
    running = _RUNNING.c
    return (
        select(func.count(func.distinct(func.coalesce(running.claim_id, running.id))))
        .where(
            running.tenant_id == tenant_id,
            running.status == EventStatus.processing,
            running.locked_until >= now,
        )
        .scalar_subquery()
    )


def _claimable(now: datetime) -> ColumnElement[bool]:
    events = _EVENTS.c
    return or_(
        and_(is_due(events.status), events.next_attempt_at <= now + CLOCK_SKEW),
        # Its previous owner's lease ran out: that worker died or hung.
        and_(events.status == EventStatus.processing, events.locked_until < now),
    )


def _claim_values(runtime: Runtime, claim_id: uuid.UUID, now: datetime) -> dict[str, Any]:
    return {
        "status": EventStatus.processing,
        "attempts": _EVENTS.c.attempts + 1,
        "locked_until": now + timedelta(seconds=runtime.settings.event_lease_seconds),
        "claim_id": claim_id,
        "updated_at": now,
    }


async def _claim(
    session: AsyncSession,
    runtime: Runtime,
    tenant_id: uuid.UUID,
    event_id: uuid.UUID,
    claim_id: uuid.UUID,
) -> Event | None:
    """Take the event, unless it is not due, someone holds it, or its tenant is at its cap.

    Leaves the transaction open: the claim is committed with its attempts.
    """
    now = utcnow()
    claimed = await session.scalar(
        update(Event)
        .where(
            _EVENTS.c.id == event_id,
            _EVENTS.c.tenant_id == tenant_id,
            _claimable(now),
            # Fairness: a tenant's flood never takes every worker.
            _in_flight(tenant_id, now) < runtime.settings.tenant_max_in_flight,
        )
        .values(**_claim_values(runtime, claim_id, now))
        .returning(Event)
        .execution_options(synchronize_session=False)
    )
    if claimed is None:
        await session.rollback()
        await _requeue_if_capped(session, runtime, tenant_id, event_id, now)
    return claimed


async def _claim_companions(
    session: AsyncSession,
    runtime: Runtime,
    first: Event,
    installation_id: uuid.UUID,
    claim_id: uuid.UUID,
    limit: int,
) -> list[Event]:
    """Take up to `limit` more due events of the same installation, oldest first."""
    now = utcnow()
    routed = select(InboundEndpoint.id).where(InboundEndpoint.installation_id == installation_id)
    due = (
        select(Event.id)
        .where(
            Event.tenant_id == first.tenant_id,
            Event.endpoint_id.in_(routed),
            Event.id != first.id,
            is_due(Event.status),
            Event.next_attempt_at <= now + CLOCK_SKEW,
        )
        .order_by(Event.next_attempt_at)
        .limit(limit)
    )
    if session.get_bind().dialect.name == "postgresql":
        # Rows another worker is claiming right now are left to it.
        due = due.with_for_update(skip_locked=True)
    # Materialized, so the limit holds: PostgreSQL may otherwise run the subquery again
    # per row and hand out more events than asked for.
    chosen = due.cte("chosen").prefix_with("MATERIALIZED")
    companions = await session.scalars(
        update(Event)
        .where(
            _EVENTS.c.id.in_(select(chosen.c.id)),
            _EVENTS.c.tenant_id == first.tenant_id,
            _claimable(now),
        )
        .values(**_claim_values(runtime, claim_id, now))
        .returning(Event)
        .execution_options(synchronize_session=False)
    )
    # RETURNING keeps no order: the plugin gets the oldest first.
    return sorted(companions.all(), key=lambda event: (event.next_attempt_at, event.id))


async def _requeue_if_capped(
    session: AsyncSession,
    runtime: Runtime,
    tenant_id: uuid.UUID,
    event_id: uuid.UUID,
    now: datetime,
) -> None:
    """An event that was due but not claimed waits for the tenant's in-flight cap: queue it
    again shortly.

    Not at the tenant's next fair turn: a waiting job asking again and again would push the
    tenant's clock ever further, and delay the tenant's next order long after its flood.
    The cap keeps the tenant's share of the workers meanwhile."""
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
        again = now + CAP_RETRY * random.uniform(0.5, 1.5)  # noqa: S311 - spreading only
        # The running job holds one of the attempt's two ids: the other one asks again.
        if await runtime.queue.enqueue(tenant_id, event_id, attempts, defer_until=again) is None:
            await runtime.queue.enqueue(
                tenant_id, event_id, attempts, defer_until=again, waiting=True
            )


async def _resolve_handler(session: AsyncSession, runtime: Runtime, event: Event) -> Handler:
    """Find the installed plugin this event goes to, or say why there is none."""
    # One round trip for the workspace's state and the endpoint's installation.
    row = (
        await session.execute(
            select(Tenant.status, PluginInstallation)
            .select_from(Tenant)
            .outerjoin(InboundEndpoint, InboundEndpoint.id == event.endpoint_id)
            .outerjoin(PluginInstallation, PluginInstallation.id == InboundEndpoint.installation_id)
            .where(Tenant.id == event.tenant_id)
        )
    ).first()
    assert row is not None
    tenant_status, installation = row
    if tenant_status is not TenantStatus.active:
        raise _Paused(PauseCause.tenant_suspended, "the workspace is suspended")
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
    return Handler(
        plugin=installation.plugin,
        installation_id=installation.id,
        integration=loaded.integration,
        config=config,
    )


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
    if not isinstance(exc, (PermanentError, OutcomeUnknown, _Retry, _Paused, NeedsReauth)):
        text = f"{type(exc).__name__}: {text}"
    return text[:MAX_ERROR_LENGTH]


@dataclass
class _Outcome:
    outcome: AttemptOutcome
    result: dict[str, Any] | None = None
    error: str | None = None
    pause_cause: PauseCause | None = None
    paused_on: uuid.UUID | None = None


def _outcome_of(event_id: uuid.UUID, number: int, given: EventOutcome) -> _Outcome:
    if not isinstance(given, Exception):
        if given is not None and not isinstance(given, dict):
            return _Outcome(
                AttemptOutcome.retrying,
                error=f"the plugin returned {type(given).__name__}, not a mapping or None",
            )
        return _Outcome(AttemptOutcome.done, result=given)
    if isinstance(given, PermanentError):
        return _Outcome(AttemptOutcome.failed, error=_describe(given))
    if isinstance(given, OutcomeUnknown):
        log.warning("event %s attempt %d needs review: %s", event_id, number, given)
        return _Outcome(
            AttemptOutcome.needs_review,
            error=_describe(given),
            result={"review": given.review},
        )
    if isinstance(given, NeedsReauth):
        given = _Paused(PauseCause.connection, str(given), given.connection_id)
    if isinstance(given, _Paused):
        return _Outcome(
            AttemptOutcome.paused,
            error=_describe(given),
            pause_cause=given.cause,
            paused_on=given.connection_id,
        )
    if not isinstance(given, _Retry):
        log.warning("event %s attempt %d failed: %s", event_id, number, _describe(given))
    return _Outcome(AttemptOutcome.retrying, error=_describe(given))


async def process_event(
    runtime: Runtime, tenant_id: uuid.UUID, event_id: uuid.UUID
) -> EventStatus | None:
    """Run one attempt of an event (with such due events of its installation as its plugin
    takes in a batch). Returns the event's new status, or None if it was not ours to run."""
    with bound_contextvars(**context(tenant_id=tenant_id, event_id=event_id)):
        return await _process(runtime, tenant_id, event_id)


async def _process(
    runtime: Runtime, tenant_id: uuid.UUID, event_id: uuid.UUID
) -> EventStatus | None:
    async with runtime.sessionmaker() as session:
        scope_to_tenant(session, tenant_id)
        claim_id = uuid.uuid4()
        first = await _claim(session, runtime, tenant_id, event_id, claim_id)
        if first is None:
            return None
        bind_contextvars(attempt=first.attempts)
        handler: Handler | Exception
        try:
            handler = await _resolve_handler(session, runtime, first)
        except (PermanentError, _Retry, _Paused) as exc:
            handler = exc
        first_is_new = first.billed_at is None
        admission = None
        if isinstance(handler, Handler) and runtime.billing is not None:
            admission = await admit(
                session, runtime.billing, tenant_id, handler.plugin, first_is_new
            )
            if admission.cause is not None:
                handler = _Paused(admission.cause, admission.message or "billing stops it")
        events = [first]
        if isinstance(handler, Handler) and handler.integration.max_batch_size > 1:
            limit = handler.integration.max_batch_size - 1
            if admission is not None and admission.remaining is not None:
                # No more new events than the quota has room for.
                limit = min(limit, admission.remaining)
            if limit > 0:
                events += await _claim_companions(
                    session, runtime, first, handler.installation_id, claim_id, limit
                )
                # The plugin gets the batch oldest first, whichever event's job took it:
                # a backlog (paused events resumed …) is worked through in order.
                events.sort(key=lambda event: (event.next_attempt_at, event.id))
        if admission is not None and admission.cause is None:
            await count(session, admission, events, first_is_new)
        plugin = handler.plugin if isinstance(handler, Handler) else None
        # The attempts are recorded in the claiming transaction: a claim never exists
        # without them.
        attempts = [_Attempt(uuid.uuid4(), event.attempts) for event in events]
        now = utcnow()
        await session.execute(
            insert(_ATTEMPTS),
            [
                {
                    "id": attempt.id,
                    "tenant_id": tenant_id,
                    "event_id": event.id,
                    "number": attempt.number,
                    "plugin": plugin,
                    "started_at": now,
                    "log": [],
                }
                for event, attempt in zip(events, attempts, strict=True)
            ],
        )
        formats = await _source_formats(session, events) if isinstance(handler, Handler) else {}
        await session.commit()
        # The companions' own jobs would find them taken; spare the workers that.
        await runtime.queue.discard(
            [(event.id, event.attempts - 1) for event in events if event is not first]
        )

        logs = [AttemptLog() for _ in events]
        try:
            given = await _run(runtime, handler, claim_id, events, logs, formats)
            outcomes = [
                _outcome_of(event.id, event.attempts, one)
                for event, one in zip(events, given, strict=True)
            ]
            backlog = None
            if (
                isinstance(handler, Handler)
                and len(events) == handler.integration.max_batch_size > 1
            ):
                backlog = (handler.installation_id, handler.integration.max_batch_size)
            statuses = await _finish(
                session, runtime, claim_id, events, attempts, logs, outcomes, backlog
            )
        except asyncio.CancelledError:
            await _hand_back(runtime, tenant_id, claim_id, attempts, logs)
            raise
        return statuses[events.index(first)]


async def _hand_back(
    runtime: Runtime,
    tenant_id: uuid.UUID,
    claim_id: uuid.UUID,
    attempts: list[_Attempt],
    logs: list[AttemptLog],
) -> None:
    """The worker is stopping (SIGTERM) mid-attempt: give the claim's events back, due
    now, for another worker to take at once instead of after the lease. What the plugin
    already did outside is in each event's checkpoint, so nothing is done twice."""
    now = utcnow()
    async with runtime.sessionmaker() as session:
        scope_to_tenant(session, tenant_id)
        released = await session.execute(
            update(Event)
            .where(Event.claim_id == claim_id, Event.status == EventStatus.processing)
            .values(
                status=EventStatus.retrying,
                next_attempt_at=now,
                locked_until=None,
                claim_id=None,
                updated_at=now,
            )
            .execution_options(synchronize_session=False)
        )
        if released.rowcount:  # type: ignore[attr-defined]
            await session.execute(
                _SETTLE_ATTEMPT,
                [
                    {
                        "attempt_id": attempt.id,
                        "new_finished_at": now,
                        "new_outcome": AttemptOutcome.interrupted,
                        "new_error": "the worker was stopped before the attempt finished; "
                        "handed back to be run again",
                        "new_log": attempt_log.entries,
                    }
                    for attempt, attempt_log in zip(attempts, logs, strict=True)
                ],
            )
        await session.commit()
    log.warning("worker stopping: %d events handed back", released.rowcount)  # type: ignore[attr-defined]


async def _next_batches(
    session: AsyncSession,
    tenant_id: uuid.UUID,
    installation_id: uuid.UUID,
    batch_size: int,
) -> list[tuple[uuid.UUID, int]]:
    """A full batch means a backlog: start the next batches now rather than when their
    jobs' fair turns come. A tenant's flood spaced out for fairness would otherwise go
    one batch per spacing; the in-flight cap keeps it from crowding others out.

    Each next batch is started by queuing the event that heads it: the oldest due one,
    then the one a batch further on, and so on: these are returned, (event, attempts)."""
    now = utcnow()
    routed = select(InboundEndpoint.id).where(InboundEndpoint.installation_id == installation_id)
    rows = (
        await session.execute(
            select(Event.id, Event.attempts)
            .where(
                Event.tenant_id == tenant_id,
                Event.endpoint_id.in_(routed),
                is_due(Event.status),
                Event.next_attempt_at <= now + CLOCK_SKEW,
            )
            .order_by(Event.next_attempt_at)
            .limit(batch_size * (CHAIN_FAN_OUT - 1) + 1)
        )
    ).all()
    return [(event_id, attempts) for event_id, attempts in rows[::batch_size]]


async def _source_formats(session: AsyncSession, events: list[Event]) -> dict[uuid.UUID, str]:
    """Each event's endpoint's source format, for the plugin to read its payload by."""
    endpoint_ids = {event.endpoint_id for event in events if event.endpoint_id is not None}
    rows = await session.execute(
        select(InboundEndpoint.id, InboundEndpoint.source_format).where(
            InboundEndpoint.id.in_(endpoint_ids)
        )
    )
    return {endpoint_id: source_format for endpoint_id, source_format in rows.all()}


async def _run(
    runtime: Runtime,
    handler: Handler | Exception,
    claim_id: uuid.UUID,
    events: list[Event],
    logs: list[AttemptLog],
    formats: dict[uuid.UUID, str],
) -> list[EventOutcome]:
    """Hand the events to the plugin; every failure becomes an outcome, none escapes."""
    if not isinstance(handler, Handler):
        return [handler]
    services = EventServices(runtime, events[0].tenant_id)
    contexts = [
        EventContext(
            tenant_id=event.tenant_id,
            event_id=event.id,
            attempt=event.attempts,
            payload=event.payload,
            headers=event.headers,
            config=handler.config,
            log=attempt_log,
            source_format=formats.get(event.endpoint_id, "") if event.endpoint_id else "",
            checkpoint=StoredCheckpoint(
                runtime, event.tenant_id, event.id, claim_id, event.checkpoint
            ),
            services=services,
        )
        for event, attempt_log in zip(events, logs, strict=True)
    ]
    budget = runtime.settings.event_lease_seconds * PLUGIN_TIME_SHARE
    started = time.perf_counter()
    given: list[EventOutcome]
    try:
        async with asyncio.timeout(budget):
            if len(contexts) == 1:
                given = [await handler.integration.process_event(contexts[0])]
            else:
                given = list(await handler.integration.process_batch(contexts))
                if len(given) != len(contexts):
                    raise _Retry(
                        f"the plugin gave {len(given)} outcomes for a batch of {len(contexts)}"
                    )
    except TimeoutError:
        given = [_Retry(f"the plugin did not finish within {budget:.0f} s")] * len(contexts)
    except Exception as exc:  # noqa: BLE001 - any plugin failure is recorded, not raised
        given = [exc] * len(contexts)
    elapsed = time.perf_counter() - started
    for _ in contexts:
        runtime.metrics.processing_seconds.observe(elapsed)
    return given


async def _finish(
    session: AsyncSession,
    runtime: Runtime,
    claim_id: uuid.UUID,
    events: list[Event],
    attempts: list[_Attempt],
    logs: list[AttemptLog],
    outcomes: list[_Outcome],
    backlog: tuple[uuid.UUID, int] | None,
) -> list[EventStatus]:
    """Apply the outcomes; with `backlog` (installation, batch size), a full batch's,
    start the batches that follow it, looked up in the same transaction."""
    now = utcnow()
    # The fence: only events still held by this claim take its outcomes. A worker whose
    # lease ran out finds its events claimed again by another and leaves them be.
    held = set(
        (
            await session.scalars(
                update(Event)
                .where(
                    Event.id.in_([event.id for event in events]),
                    Event.claim_id == claim_id,
                    Event.status == EventStatus.processing,
                )
                .values(updated_at=now)
                .returning(Event.id)
                .execution_options(synchronize_session=False)
            )
        ).all()
    )
    statuses: list[EventStatus] = []
    retries: list[tuple[Event, datetime]] = []
    # Rows that set the same columns go to the database together, in one executemany.
    updates: dict[tuple[str, ...], list[dict[str, Any]]] = {}
    settled: list[dict[str, Any]] = []
    for event, attempt, attempt_log, outcome in zip(events, attempts, logs, outcomes, strict=True):
        values: dict[str, Any] = {
            "locked_until": None,
            "updated_at": now,
            "paused_connection_id": outcome.paused_on,
            "pause_cause": outcome.pause_cause,
        }
        error = outcome.error
        kind = outcome.outcome
        if kind is AttemptOutcome.retrying:
            failures = 1 + await _earlier_failures(session, event.id, attempt.number)
            delay = retry_delay(runtime.settings.retry_schedule_seconds, failures)
            if delay is None:
                kind = AttemptOutcome.failed
                error = f"gave up after {failures} failed attempts; last error: {error}"
            else:
                values["next_attempt_at"] = now + delay
        status = EventStatus(kind.value)
        values["status"] = status
        values["last_error"] = error
        if status is EventStatus.done:
            values.update(result=outcome.result, finished_at=now)
        elif status is EventStatus.needs_review:
            values["result"] = outcome.result
        elif status is EventStatus.failed:
            values["finished_at"] = now
        if event.id in held:
            updates.setdefault(tuple(sorted(values)), []).append({"event_id": event.id, **values})
            runtime.metrics.events_processed.labels(status.value).inc()
            if status is EventStatus.retrying:
                runtime.metrics.retries.inc()
                retries.append((event, values["next_attempt_at"]))
        else:
            attempt_log.warning(
                "the lease ran out before this attempt finished; its outcome was not applied"
            )
        settled.append(
            {
                "attempt_id": attempt.id,
                "new_finished_at": now,
                "new_outcome": kind,
                "new_error": error,
                "new_log": attempt_log.entries,
            }
        )
        statuses.append(status)
    table = Event.__table__
    assert isinstance(table, Table)
    for columns, rows in updates.items():
        await session.execute(
            update(table)
            .where(table.c.id == bindparam("event_id"))
            .values({column: bindparam(f"new_{column}") for column in columns}),
            [
                {f"new_{key}" if key != "event_id" else key: value for key, value in row.items()}
                for row in rows
            ],
        )
    await session.execute(_SETTLE_ATTEMPT, settled)
    following = (
        [] if backlog is None else await _next_batches(session, events[0].tenant_id, *backlog)
    )
    await session.commit()

    for event_id, number in following:
        await runtime.queue.enqueue(
            events[0].tenant_id, event_id, number, defer_until=now, waiting=True
        )

    for event, next_attempt_at in retries:
        await runtime.queue.enqueue(
            event.tenant_id, event.id, event.attempts, defer_until=next_attempt_at
        )
    return statuses
