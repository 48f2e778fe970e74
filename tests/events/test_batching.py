"""Batches: a plugin that takes several due events at once, each with its own outcome."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from junction.db.base import utcnow
from junction.db.tenancy import cross_tenant
from junction.events.models import AttemptOutcome, Event, EventStatus
from junction.events.processing import process_event
from junction.events.queueing import job_id
from junction.plugins import hookimpl
from junction.plugins.interfaces import (
    AttemptLog,
    EventContext,
    EventOutcome,
    Integration,
    NoConfig,
    PermanentError,
    PluginInfo,
)
from junction.plugins.models import PluginInstallation
from junction.plugins.registry import build_registry
from junction.runtime import Runtime, open_runtime
from junction.settings import Settings
from tests.factories import EventFactory, InboundEndpointFactory, PluginInstallationFactory
from tests.support.events import attempts_of, reload_events

BATCH = 3


class BatchingIntegration(Integration):
    """Does what each payload's `mode` says; remembers the batches it was handed."""

    max_batch_size = BATCH

    def __init__(self) -> None:
        self.batches: list[list[uuid.UUID]] = []
        self.fail_whole_batch: Exception | None = None
        self.short_answer = False
        self.meanwhile: Callable[[], Awaitable[None]] | None = None

    async def process_event(self, event: EventContext) -> dict[str, Any] | None:
        self.batches.append([event.event_id])
        return {"alone": event.payload["n"]}

    async def process_batch(self, events: Sequence[EventContext]) -> Sequence[EventOutcome]:
        self.batches.append([event.event_id for event in events])
        if self.meanwhile is not None:
            await self.meanwhile()
        if self.fail_whole_batch is not None:
            raise self.fail_whole_batch
        outcomes: list[EventOutcome] = []
        for event in events:
            event.log.info("handled in a batch", n=event.payload["n"], size=len(events))
            mode = event.payload.get("mode", "ok")
            if mode == "permanent":
                outcomes.append(PermanentError(f"event {event.payload['n']} is refused"))
            elif mode == "retry":
                outcomes.append(RuntimeError("the target was busy"))
            else:
                outcomes.append({"batched": event.payload["n"]})
        return outcomes[:-1] if self.short_answer else outcomes


class BatchingPlugin:
    def __init__(self) -> None:
        self.integration = BatchingIntegration()

    @hookimpl
    def junction_plugin(self) -> PluginInfo:
        return PluginInfo(name="batching", title="Batching", version="1.0")

    @hookimpl
    def junction_integration(self) -> Integration:
        return self.integration


@pytest.fixture
def plugin() -> BatchingPlugin:
    return BatchingPlugin()


@pytest.fixture
async def batch_runtime(
    settings: Settings,
    sessionmaker: async_sessionmaker[AsyncSession],
    redis_url: str,
    plugin: BatchingPlugin,
) -> AsyncIterator[Runtime]:
    registry = build_registry(extra_plugins=[("batching", plugin)])
    runtime = await open_runtime(
        settings, registry=registry, sessionmaker=sessionmaker, redis_url=redis_url
    )
    yield runtime
    await runtime.close()


@pytest.fixture
def installation() -> PluginInstallation:
    installed: PluginInstallation = PluginInstallationFactory(plugin="batching")
    return installed


def _backlog(installation: PluginInstallation, *modes: str) -> list[Event]:
    endpoint = InboundEndpointFactory(installation=installation)
    start = utcnow() - timedelta(minutes=1)
    return [
        EventFactory(
            endpoint=endpoint,
            payload={"n": n, "mode": mode},
            next_attempt_at=start + timedelta(seconds=n),
        )
        for n, mode in enumerate(modes)
    ]


@pytest.mark.slice
async def test_a_backlog_goes_to_the_plugin_in_batches_with_an_outcome_each(
    batch_runtime: Runtime,
    session: AsyncSession,
    plugin: BatchingPlugin,
    installation: PluginInstallation,
) -> None:
    events = _backlog(installation, "ok", "permanent", "retry", "ok", "ok")
    await session.commit()
    for event in events:
        await batch_runtime.queue.enqueue(event.tenant_id, event.id, 0)
    # One of them also asked again after finding its tenant at the cap.
    await batch_runtime.queue.enqueue(events[1].tenant_id, events[1].id, 0, waiting=True)

    status = await process_event(batch_runtime, events[0].tenant_id, events[0].id)

    assert status is EventStatus.done
    # The oldest due events of the installation, up to the plugin's batch size.
    assert plugin.integration.batches == [[event.id for event in events[:BATCH]]]
    first, refused, busy, later, last = await reload_events(session, events)
    assert first.status is EventStatus.done
    assert first.result == {"batched": 0}
    assert refused.status is EventStatus.failed
    assert refused.last_error == "event 1 is refused"
    assert busy.status is EventStatus.retrying
    assert busy.last_error == "RuntimeError: the target was busy"
    assert busy.next_attempt_at > utcnow()
    assert later.status is EventStatus.received
    assert last.status is EventStatus.received
    # Each event has its own attempt and log.
    for event, outcome in zip(
        events[:BATCH],
        (AttemptOutcome.done, AttemptOutcome.failed, AttemptOutcome.retrying),
        strict=True,
    ):
        [attempt] = await attempts_of(session, event)
        assert attempt.outcome is outcome
        assert attempt.plugin == "batching"
        [entry] = attempt.log
        assert entry["data"] == {"n": event.payload["n"], "size": BATCH}
    # The jobs of the events taken with the first one are gone; the rest still wait,
    # and the retry is queued for later.
    queued = {
        str(job.job_id)
        for job in await batch_runtime.queue.redis.queued_jobs(
            queue_name=batch_runtime.settings.queue_name
        )
    }
    assert queued == {
        job_id(events[0].id, 0),
        job_id(events[2].id, 1),
        job_id(events[3].id, 0),
        job_id(events[4].id, 0),
        # The batch was full: the next one starts now, not at its fair turn.
        job_id(events[3].id, 0, waiting=True),
    }

    # The next job takes the rest; jobs of events already settled do nothing.
    assert await process_event(batch_runtime, events[1].tenant_id, events[1].id) is None
    assert await process_event(batch_runtime, events[3].tenant_id, events[3].id) is (
        EventStatus.done
    )
    assert plugin.integration.batches[-1] == [events[3].id, events[4].id]


async def test_a_batch_takes_only_due_events_of_its_own_installation(
    batch_runtime: Runtime,
    session: AsyncSession,
    plugin: BatchingPlugin,
    installation: PluginInstallation,
) -> None:
    [mine] = _backlog(installation, "ok")
    [elsewhere] = _backlog(PluginInstallationFactory(plugin="batching"), "ok")
    [not_yet] = _backlog(installation, "ok")
    not_yet.status = EventStatus.retrying
    not_yet.next_attempt_at = utcnow() + timedelta(hours=1)
    await session.commit()

    assert await process_event(batch_runtime, mine.tenant_id, mine.id) is EventStatus.done
    # Alone in its batch: the plugin was handed it through process_event.
    assert plugin.integration.batches == [[mine.id]]
    assert [e.status for e in await reload_events(session, [elsewhere, not_yet])] == [
        EventStatus.received,
        EventStatus.retrying,
    ]


async def test_a_batch_that_raises_retries_every_event_in_it(
    batch_runtime: Runtime,
    session: AsyncSession,
    plugin: BatchingPlugin,
    installation: PluginInstallation,
) -> None:
    events = _backlog(installation, "ok", "ok")
    await session.commit()
    plugin.integration.fail_whole_batch = ConnectionError("the target is down")
    assert await process_event(batch_runtime, events[0].tenant_id, events[0].id) is (
        EventStatus.retrying
    )
    for event in await reload_events(session, events):
        assert event.status is EventStatus.retrying
        assert event.last_error == "ConnectionError: the target is down"


async def test_a_batch_answered_with_the_wrong_number_of_outcomes_is_retried(
    batch_runtime: Runtime,
    session: AsyncSession,
    plugin: BatchingPlugin,
    installation: PluginInstallation,
) -> None:
    events = _backlog(installation, "ok", "ok")
    await session.commit()
    plugin.integration.short_answer = True
    await process_event(batch_runtime, events[0].tenant_id, events[0].id)
    for event in await reload_events(session, events):
        assert event.status is EventStatus.retrying
        assert event.last_error == "the plugin gave 1 outcomes for a batch of 2"


async def test_a_batch_counts_once_against_the_tenants_in_flight_cap(
    settings: Settings,
    sessionmaker: async_sessionmaker[AsyncSession],
    redis_url: str,
    session: AsyncSession,
    plugin: BatchingPlugin,
    installation: PluginInstallation,
) -> None:
    registry = build_registry(extra_plugins=[("batching", plugin)])
    capped = settings.model_copy(update={"tenant_max_in_flight": 2})
    runtime = await open_runtime(
        capped, registry=registry, sessionmaker=sessionmaker, redis_url=redis_url
    )
    try:
        # Another worker holds a batch of three of this tenant's events.
        held = _backlog(installation, "ok", "ok", "ok")
        claim = uuid.uuid4()
        for event in held:
            event.status = EventStatus.processing
            event.claim_id = claim
            event.attempts = 1
            event.locked_until = utcnow() + timedelta(minutes=1)
        [waiting] = _backlog(installation, "ok")
        await session.commit()
        # Three events in flight, but one claim: the cap of two is not reached.
        assert await process_event(runtime, waiting.tenant_id, waiting.id) is EventStatus.done
    finally:
        await runtime.close()


async def test_the_default_batch_runs_each_event_through_process_event() -> None:
    class OneByOne(Integration):
        async def process_event(self, event: EventContext) -> dict[str, Any] | None:
            if event.payload == "bad":
                raise PermanentError("bad payload")
            return {"seen": event.payload}

    def context(payload: str) -> EventContext:
        return EventContext(
            tenant_id=uuid.uuid4(),
            event_id=uuid.uuid4(),
            attempt=1,
            payload=payload,
            headers={},
            config=NoConfig(),
            log=AttemptLog(),
        )

    outcomes = await OneByOne().process_batch([context("a"), context("bad"), context("c")])
    assert outcomes[0] == {"seen": "a"}
    assert isinstance(outcomes[1], PermanentError)
    assert outcomes[2] == {"seen": "c"}


async def test_an_event_taken_over_mid_batch_keeps_its_new_owners_outcome(
    batch_runtime: Runtime,
    session: AsyncSession,
    plugin: BatchingPlugin,
    installation: PluginInstallation,
) -> None:
    events = _backlog(installation, "ok", "ok")
    await session.commit()
    other_claim = uuid.uuid4()

    async def lease_runs_out_and_another_worker_claims() -> None:
        with cross_tenant(session, "test: another worker's claim"):
            await session.execute(
                update(Event).where(Event.id == events[1].id).values(claim_id=other_claim)
            )
        await session.commit()

    plugin.integration.meanwhile = lease_runs_out_and_another_worker_claims
    assert await process_event(batch_runtime, events[0].tenant_id, events[0].id) is (
        EventStatus.done
    )
    done, taken = await reload_events(session, events)
    assert done.status is EventStatus.done
    assert taken.status is EventStatus.processing
    assert taken.claim_id == other_claim
    assert taken.result is None
    [attempt] = await attempts_of(session, taken)
    assert attempt.log[-1]["message"] == (
        "the lease ran out before this attempt finished; its outcome was not applied"
    )
