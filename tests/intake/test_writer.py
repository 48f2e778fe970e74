"""Deliveries arriving together are written together, each with its own answer."""

from __future__ import annotations

import asyncio
import uuid

import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from junction.db.tenancy import cross_tenant
from junction.events.models import Event
from junction.runtime import Runtime
from tests.factories import InboundEndpointFactory


def _values(endpoint: object, key: str, **extra: object) -> dict[str, object]:
    return {
        "tenant_id": endpoint.tenant_id,  # type: ignore[attr-defined]
        "endpoint_id": endpoint.id,  # type: ignore[attr-defined]
        "idempotency_key": key,
        "content_type": "application/json",
        "payload": {"key": key},
        "headers": {},
        **extra,
    }


async def _count(session: AsyncSession) -> int:
    with cross_tenant(session, "test: count events"):
        return int(await session.scalar(select(func.count()).select_from(Event)) or 0)


async def test_concurrent_deliveries_share_statements_and_keep_their_answers(
    runtime: Runtime, session: AsyncSession
) -> None:
    endpoint = InboundEndpointFactory()
    await session.commit()
    keys = [f"k{n}" for n in range(50)] + ["k7"]
    answers = await asyncio.gather(
        *(runtime.event_writer.insert(_values(endpoint, key)) for key in keys)
    )
    created = [answer for answer in answers if answer is not None]
    # The repeat of k7 in the same batch stored nothing.
    assert len(created) == 50
    assert len(set(created)) == 50
    assert answers[-1] is None or answers[7] is None
    assert await _count(session) == 50


async def test_a_row_that_cannot_be_stored_fails_alone(
    runtime: Runtime, session: AsyncSession
) -> None:
    endpoint = InboundEndpointFactory()
    await session.commit()
    good = [runtime.event_writer.insert(_values(endpoint, f"g{n}")) for n in range(3)]
    bad = runtime.event_writer.insert(_values(endpoint, "b", content_type="x" * 10_000))
    results = await asyncio.gather(*good, bad, return_exceptions=True)
    assert all(isinstance(result, uuid.UUID) for result in results[:3])
    if runtime.engine.dialect.name == "postgresql":
        assert isinstance(results[3], Exception)
        assert await _count(session) == 3
    else:
        pytest.skip("SQLite does not enforce string lengths")


async def test_new_events_are_queued_together_in_one_round_trip(runtime: Runtime) -> None:
    from junction.events.queueing import job_id

    tenant = uuid.uuid4()
    events = [uuid.uuid4() for _ in range(30)]
    for event in events:
        runtime.queue.enqueue_soon(tenant, event)
    await runtime.queue.sent()
    queued = {
        str(job.job_id)
        for job in await runtime.queue.redis.queued_jobs(queue_name=runtime.settings.queue_name)
    }
    assert queued == {job_id(event, 0) for event in events}
