"""Processing events: claim, plugin, outcome, retries, dead letters, leases."""

from __future__ import annotations

import uuid
from datetime import timedelta

import pytest
from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from junction.connections.credentials import NeedsReauth
from junction.connections.models import Connection, ConnectionStatus
from junction.db.base import utcnow
from junction.db.tenancy import cross_tenant, scope_to_tenant
from junction.events.models import AttemptOutcome, Event, EventAttempt, EventStatus
from junction.events.processing import process_event
from junction.events.queueing import job_id
from junction.events.sweeper import resume_paused_events, sweep_due_events
from junction.plugins import hookimpl
from junction.plugins.interfaces import EventContext, Integration, PluginInfo
from junction.plugins.registry import build_registry
from junction.runtime import Runtime, open_runtime
from junction.settings import Settings
from tests.factories import EventFactory, InboundEndpointFactory, PluginInstallationFactory
from tests.plugins import contract_plugin
from tests.support.events import attempts_of, reload_event


async def _event(session: AsyncSession, **kwargs: object) -> Event:
    event = EventFactory(**kwargs)
    await session.commit()
    return event


@pytest.mark.slice
async def test_a_received_event_is_processed_by_its_plugin(
    runtime: Runtime, session: AsyncSession
) -> None:
    event = await _event(
        session,
        payload={"order_id": "1"},
        endpoint__installation__config={"label": "shop A"},
    )
    status = await process_event(runtime, event.tenant_id, event.id)
    assert status is EventStatus.done
    stored = await reload_event(session, event)
    assert stored.status is EventStatus.done
    assert stored.result == {"echo": {"order_id": "1"}, "label": "shop A", "attempt": 1}
    assert stored.finished_at is not None
    assert stored.locked_until is None
    [attempt] = await attempts_of(session, event)
    assert attempt.outcome is AttemptOutcome.done
    assert attempt.plugin == "echo"
    assert attempt.log[0]["message"] == "echoed the payload"
    assert attempt.log[0]["data"] == {"keys": ["order_id"]}


async def test_a_failing_attempt_is_retried_later_then_succeeds(
    runtime: Runtime, session: AsyncSession
) -> None:
    event = await _event(session, payload={"echo_fail": 1})
    before = utcnow()
    assert await process_event(runtime, event.tenant_id, event.id) is EventStatus.retrying
    stored = await reload_event(session, event)
    # First delay of the test schedule: 5 s with ±20 % jitter.
    assert (
        before + timedelta(seconds=4) <= stored.next_attempt_at <= utcnow() + timedelta(seconds=6)
    )
    assert stored.last_error == "RuntimeError: the payload asked to fail attempt 1"
    # Not yet due: a job arriving early does nothing.
    assert await process_event(runtime, event.tenant_id, event.id) is None
    await _make_due(session, event)
    assert await process_event(runtime, event.tenant_id, event.id) is EventStatus.done
    outcomes = [a.outcome for a in await attempts_of(session, event)]
    assert outcomes == [AttemptOutcome.retrying, AttemptOutcome.done]


async def _make_due(session: AsyncSession, event: Event) -> None:
    scope_to_tenant(session, event.tenant_id)
    await session.execute(
        update(Event)
        .where(Event.id == event.id)
        .values(next_attempt_at=utcnow() - timedelta(seconds=1))
    )
    await session.commit()
    session.info.clear()


async def test_after_the_last_retry_the_event_is_a_dead_letter(
    runtime: Runtime, session: AsyncSession
) -> None:
    event = await _event(session, payload={"echo_fail": "retry"})
    statuses = []
    for _ in range(3):  # the test schedule has two retries
        statuses.append(await process_event(runtime, event.tenant_id, event.id))
        await _make_due(session, event)
    assert statuses == [EventStatus.retrying, EventStatus.retrying, EventStatus.failed]
    stored = await reload_event(session, event)
    assert stored.status is EventStatus.failed
    assert stored.last_error is not None
    assert stored.last_error.startswith("gave up after 3 failed attempts; last error: RuntimeError")
    assert await process_event(runtime, event.tenant_id, event.id) is None


async def test_a_permanent_error_fails_at_once(runtime: Runtime, session: AsyncSession) -> None:
    event = await _event(session, payload={"echo_fail": "permanent"})
    assert await process_event(runtime, event.tenant_id, event.id) is EventStatus.failed
    stored = await reload_event(session, event)
    assert stored.last_error == "the payload asked to fail (echo_fail=permanent)"


async def test_a_disabled_installation_fails_the_event_with_a_reason(
    runtime: Runtime, session: AsyncSession
) -> None:
    event = await _event(session, endpoint__installation__enabled=False)
    assert await process_event(runtime, event.tenant_id, event.id) is EventStatus.failed
    stored = await reload_event(session, event)
    assert stored.last_error == "the plugin 'echo' is disabled for this workspace"


async def test_invalid_plugin_config_fails_with_what_is_wrong(
    runtime: Runtime, session: AsyncSession
) -> None:
    event = await _event(session, endpoint__installation__config={"colour": "red"})
    assert await process_event(runtime, event.tenant_id, event.id) is EventStatus.failed
    stored = await reload_event(session, event)
    assert (
        stored.last_error
        == "invalid config for plugin 'echo': colour: Extra inputs are not permitted"
    )


async def test_a_plugin_missing_from_the_worker_is_retried(
    runtime: Runtime, session: AsyncSession
) -> None:
    installation = PluginInstallationFactory(plugin="not-deployed-yet")
    event = await _event(session, endpoint=InboundEndpointFactory(installation=installation))
    assert await process_event(runtime, event.tenant_id, event.id) is EventStatus.retrying
    stored = await reload_event(session, event)
    assert stored.last_error == "plugin 'not-deployed-yet' is not loaded"


async def test_an_event_is_claimed_by_one_worker_only(
    runtime: Runtime, session: AsyncSession
) -> None:
    event = await _event(
        session,
        status=EventStatus.processing,
        attempts=1,
        locked_until=utcnow() + timedelta(seconds=30),
    )
    assert await process_event(runtime, event.tenant_id, event.id) is None
    stored = await reload_event(session, event)
    assert stored.status is EventStatus.processing
    assert stored.attempts == 1


async def test_an_expired_lease_is_taken_over(runtime: Runtime, session: AsyncSession) -> None:
    event = await _event(
        session,
        status=EventStatus.processing,
        attempts=1,
        locked_until=utcnow() - timedelta(seconds=1),
    )
    assert await process_event(runtime, event.tenant_id, event.id) is EventStatus.done
    stored = await reload_event(session, event)
    assert stored.attempts == 2


async def test_a_job_for_another_tenant_does_nothing(
    runtime: Runtime, session: AsyncSession
) -> None:
    event = await _event(session)
    assert await process_event(runtime, uuid.uuid4(), event.id) is None
    assert (await reload_event(session, event)).status is EventStatus.received


async def test_the_sweeper_enqueues_what_is_due_and_only_that(
    runtime: Runtime, session: AsyncSession
) -> None:
    endpoint = InboundEndpointFactory()
    due = EventFactory(endpoint=endpoint)
    retry_due = EventFactory(
        endpoint=endpoint,
        status=EventStatus.retrying,
        attempts=1,
        next_attempt_at=utcnow() - timedelta(seconds=5),
    )
    stale = EventFactory(
        endpoint=endpoint,
        status=EventStatus.processing,
        attempts=2,
        locked_until=utcnow() - timedelta(seconds=1),
    )
    EventFactory(
        endpoint=endpoint,
        status=EventStatus.retrying,
        attempts=1,
        next_attempt_at=utcnow() + timedelta(hours=1),
    )
    EventFactory(
        endpoint=endpoint,
        status=EventStatus.processing,
        attempts=1,
        locked_until=utcnow() + timedelta(minutes=1),
    )
    EventFactory(endpoint=endpoint, status=EventStatus.done)
    EventFactory(endpoint=endpoint, status=EventStatus.failed)
    await session.commit()

    assert await sweep_due_events(runtime) == 3
    queued = await runtime.queue.redis.queued_jobs(queue_name=runtime.settings.queue_name)
    assert {job.job_id for job in queued} == {
        job_id(due.id, 0),
        job_id(retry_due.id, 1),
        job_id(stale.id, 2),
    }
    # A second sweep finds the same jobs queued and adds none.
    await sweep_due_events(runtime)
    assert len(await runtime.queue.redis.queued_jobs(queue_name=runtime.settings.queue_name)) == 3


async def test_events_go_only_to_the_installation_their_endpoint_is_routed_to(
    settings: Settings,
    sessionmaker: async_sessionmaker[AsyncSession],
    session: AsyncSession,
    redis_url: str,
) -> None:
    registry = build_registry(extra_plugins=[("contract", contract_plugin)])
    runtime = await open_runtime(
        settings, registry=registry, sessionmaker=sessionmaker, redis_url=redis_url
    )
    try:
        echo = PluginInstallationFactory(plugin="echo")
        contract = PluginInstallationFactory(
            plugin="contract", tenant=echo.tenant, config={"prefix": "c"}
        )
        to_contract = EventFactory(
            endpoint=InboundEndpointFactory(installation=contract), payload={"id": 1}
        )
        to_echo = EventFactory(
            endpoint=InboundEndpointFactory(installation=echo), payload={"id": 2}
        )
        await session.commit()
        await process_event(runtime, to_contract.tenant_id, to_contract.id)
        await process_event(runtime, to_echo.tenant_id, to_echo.id)
    finally:
        await runtime.close()
    assert (await reload_event(session, to_contract)).result == {"value": "c:1"}
    assert (await reload_event(session, to_echo)).result == {
        "echo": {"id": 2},
        "label": "",
        "attempt": 1,
    }


async def test_a_retry_is_queued_for_its_time(runtime: Runtime, session: AsyncSession) -> None:
    event = await _event(session, payload={"echo_fail": 1})
    await process_event(runtime, event.tenant_id, event.id)
    [job] = await runtime.queue.redis.queued_jobs(queue_name=runtime.settings.queue_name)
    stored = await reload_event(session, event)
    assert job.job_id == job_id(event.id, 1)
    assert job.score is not None
    assert abs((job.score / 1000) - stored.next_attempt_at.timestamp()) < 0.01


class _PausingPlugin:
    """Its first attempt finds the connection needing a person; later ones succeed."""

    def __init__(self, connection_id: uuid.UUID) -> None:
        self.connection_id = connection_id

    @hookimpl
    def junction_plugin(self) -> PluginInfo:
        return PluginInfo(name="blocked", title="Blocked", version="1")

    @hookimpl
    def junction_integration(self) -> Integration:
        connection_id = self.connection_id

        class Blocked(Integration):
            async def process_event(self, event: EventContext) -> dict[str, object] | None:
                if event.attempt == 1:
                    raise NeedsReauth(
                        "the amoCRM connection needs to be reconnected", connection_id
                    )
                return {"ok": True}

        return Blocked()


async def test_a_connection_needing_a_person_pauses_the_event_until_it_is_fixed(
    settings: Settings,
    sessionmaker: async_sessionmaker[AsyncSession],
    session: AsyncSession,
    redis_url: str,
) -> None:
    installation = PluginInstallationFactory(plugin="blocked")
    connection = Connection(
        id=uuid.uuid4(),
        tenant=installation.tenant,
        provider="amocrm",
        name="amoCRM",
        account_ref="1",
        secrets_encrypted="x",
        details={},
        status=ConnectionStatus.needs_reauth,
    )
    session.add(connection)
    event = EventFactory(endpoint=InboundEndpointFactory(installation=installation))
    await session.commit()
    registry = build_registry(extra_plugins=[("blocked", _PausingPlugin(connection.id))])
    runtime = await open_runtime(
        settings, registry=registry, sessionmaker=sessionmaker, redis_url=redis_url
    )
    try:
        assert await process_event(runtime, event.tenant_id, event.id) is EventStatus.paused
        stored = await reload_event(session, event)
        assert stored.status is EventStatus.paused
        assert stored.paused_connection_id == connection.id
        assert stored.last_error == "the amoCRM connection needs to be reconnected"
        assert stored.finished_at is None
        # Still broken: nothing resumes, nothing is swept.
        assert await resume_paused_events(runtime) == 0
        assert await sweep_due_events(runtime) == 0
        # Reconnected: the event comes back by itself and completes.
        with cross_tenant(session, "test: fix the connection"):
            await session.execute(
                update(Connection)
                .where(Connection.id == connection.id)
                .values(status=ConnectionStatus.healthy)
            )
        await session.commit()
        assert await resume_paused_events(runtime) == 1
        assert await sweep_due_events(runtime) == 1
        assert await process_event(runtime, event.tenant_id, event.id) is EventStatus.done
    finally:
        await runtime.close()
    outcomes = [a.outcome for a in await attempts_of(session, event)]
    assert outcomes == [AttemptOutcome.paused, AttemptOutcome.done]


async def test_a_tenant_at_its_in_flight_cap_waits_its_turn(
    runtime: Runtime, session: AsyncSession
) -> None:
    endpoint = InboundEndpointFactory()
    cap = runtime.settings.tenant_max_in_flight
    EventFactory.create_batch(
        cap,
        endpoint=endpoint,
        status=EventStatus.processing,
        attempts=1,
        locked_until=utcnow() + timedelta(seconds=30),
    )
    waiting = EventFactory(endpoint=endpoint)
    await session.commit()
    # Its job is the one running now: its id is taken.
    await runtime.queue.enqueue(waiting.tenant_id, waiting.id, 0)
    assert await process_event(runtime, waiting.tenant_id, waiting.id) is None
    assert (await reload_event(session, waiting)).status is EventStatus.received
    # Queued again shortly under the attempt's other id, without moving the tenant's clock.
    jobs = await runtime.queue.redis.queued_jobs(queue_name=runtime.settings.queue_name)
    assert sorted(str(job.job_id) for job in jobs) == [
        job_id(waiting.id, 0),
        job_id(waiting.id, 0, waiting=True),
    ]
    # Another tenant is not held back.
    other = await _event(session)
    assert await process_event(runtime, other.tenant_id, other.id) is EventStatus.done


async def test_a_flood_is_spread_out_while_another_tenant_goes_first(runtime: Runtime) -> None:
    flood, single = uuid.uuid4(), uuid.uuid4()
    turns = [await runtime.queue.enqueue(flood, uuid.uuid4(), 0) for _ in range(100)]
    lone = await runtime.queue.enqueue(single, uuid.uuid4(), 0)
    assert lone is not None
    assert turns[0] is not None
    assert turns[-1] is not None
    spacing = 1 / runtime.settings.tenant_dispatch_rate
    assert (turns[-1] - turns[0]).total_seconds() >= 99 * spacing * 0.99
    assert lone < turns[-1]
    assert abs((lone - utcnow()).total_seconds()) < 1


async def test_a_replayed_dead_letter_gets_its_retries_again(
    runtime: Runtime, session: AsyncSession
) -> None:
    from junction.events.replay import ReplayFilter, replay

    event = await _event(session, payload={"echo_fail": "retry"})
    for _ in range(3):  # the test schedule has two retries
        await process_event(runtime, event.tenant_id, event.id)
        await _make_due(session, event)
    assert (await reload_event(session, event)).status is EventStatus.failed
    scope_to_tenant(session, event.tenant_id)
    assert await replay(session, runtime.queue, ReplayFilter(event_ids=(event.id,))) == 1
    session.info.clear()
    # The first failure after the replay is retried, not final.
    assert await process_event(runtime, event.tenant_id, event.id) is EventStatus.retrying


async def test_an_event_that_kills_its_worker_every_time_ends_as_a_dead_letter(
    runtime: Runtime, session: AsyncSession
) -> None:
    event = await _event(session, payload={"echo_fail": "retry"})
    # Two attempts whose workers died: claimed, never finished, lease long gone.
    for number in (1, 2):
        session.add(
            EventAttempt(tenant_id=event.tenant_id, event_id=event.id, number=number, log=[])
        )
    with cross_tenant(session, "test: a stale lease"):
        await session.execute(
            update(Event)
            .where(Event.id == event.id)
            .values(
                status=EventStatus.processing,
                attempts=2,
                locked_until=utcnow() - timedelta(seconds=1),
            )
        )
    await session.commit()
    # The third attempt fails too: with two retries allowed, that is the end.
    assert await process_event(runtime, event.tenant_id, event.id) is EventStatus.failed
    stored = await reload_event(session, event)
    assert stored.last_error is not None
    assert stored.last_error.startswith("gave up after 3 failed attempts")


async def test_a_suspended_workspace_pauses_its_events_until_it_is_active_again(
    runtime: Runtime, session: AsyncSession
) -> None:
    from junction.events.models import PauseCause
    from junction.tenancy.models import Tenant, TenantStatus

    event = await _event(session, payload={"order_id": "9"})

    async def set_status(status: TenantStatus) -> None:
        await session.execute(
            update(Tenant).where(Tenant.id == event.tenant_id).values(status=status)
        )
        await session.commit()

    await set_status(TenantStatus.suspended)
    assert await process_event(runtime, event.tenant_id, event.id) is EventStatus.paused
    paused = await reload_event(session, event)
    assert paused.pause_cause is PauseCause.tenant_suspended
    assert paused.last_error == "the workspace is suspended"
    # Nothing changes while it stays suspended.
    assert await resume_paused_events(runtime) == 0

    await set_status(TenantStatus.active)
    assert await resume_paused_events(runtime) == 1
    resumed = await reload_event(session, event)
    assert resumed.status is EventStatus.retrying
    assert resumed.pause_cause is None
    assert await process_event(runtime, event.tenant_id, event.id) is EventStatus.done
    outcomes = [a.outcome for a in await attempts_of(session, event)]
    assert outcomes == [AttemptOutcome.paused, AttemptOutcome.done]


async def test_the_sweeper_leaves_an_event_whose_waiting_job_is_queued(
    runtime: Runtime, session: AsyncSession
) -> None:
    event = await _event(session)
    await runtime.queue.enqueue(event.tenant_id, event.id, 0, waiting=True)
    assert await sweep_due_events(runtime) == 0
    await runtime.queue.redis.delete(runtime.settings.queue_name)
    assert await sweep_due_events(runtime) == 1
