"""Prometheus metrics: intake counters, processing, and database gauges."""

from __future__ import annotations

import httpx
from sqlalchemy.ext.asyncio import AsyncSession

from junction.events.models import EventStatus
from junction.events.processing import process_event
from junction.runtime import Runtime
from tests.factories import EventFactory, InboundEndpointFactory


async def test_intake_and_queue_depth_are_exposed(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    endpoint = InboundEndpointFactory(token="tok-metrics")
    EventFactory(endpoint=endpoint, status=EventStatus.processing)
    await session.commit()
    await client.post("/hooks/tok-metrics", json={"order_id": "m1"})
    await client.post("/hooks/tok-metrics", json={"order_id": "m1"})
    response = await client.get("/metrics")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain")
    text = response.text
    assert 'junction_events_received_total{outcome="accepted"} 1.0' in text
    assert 'junction_events_received_total{outcome="duplicate"} 1.0' in text
    assert 'junction_events{status="received"} 1.0' in text
    assert f'junction_tenant_events_in_flight{{tenant="{endpoint.tenant_id}"}} 1.0' in text
    assert "tok-metrics" not in text


async def test_processing_outcomes_retries_and_durations_are_counted(
    runtime: Runtime, session: AsyncSession
) -> None:
    done = EventFactory()
    retried = EventFactory(payload={"echo_fail": 1})
    await session.commit()
    await process_event(runtime, done.tenant_id, done.id)
    await process_event(runtime, retried.tenant_id, retried.id)
    registry = runtime.metrics.registry
    assert registry.get_sample_value("junction_events_processed_total", {"outcome": "done"}) == 1
    assert (
        registry.get_sample_value("junction_events_processed_total", {"outcome": "retrying"}) == 1
    )
    assert registry.get_sample_value("junction_event_retries_total") == 1
    assert registry.get_sample_value("junction_event_processing_seconds_count") == 2
