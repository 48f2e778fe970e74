"""The events API: a tenant reads its own events and attempts, no one else's."""

from __future__ import annotations

from datetime import timedelta

import httpx
import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from junction.audit.models import AuditEntry
from junction.db.base import utcnow
from junction.db.tenancy import cross_tenant
from junction.events.models import Event, EventStatus
from junction.events.processing import process_event
from junction.runtime import Runtime
from junction.tenancy.models import Role
from tests.factories import ApiKeyFactory, EventFactory, InboundEndpointFactory, TenantFactory

KEY = "jk_apitest_" + "k" * 43
OTHER_KEY = "jk_apiother_" + "o" * 43


def _auth(key: str = KEY) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}"}


@pytest.mark.slice
async def test_an_event_reads_back_with_its_attempts(
    client: httpx.AsyncClient, session: AsyncSession, runtime: Runtime
) -> None:
    endpoint = InboundEndpointFactory()
    ApiKeyFactory(tenant=endpoint.installation.tenant, key=KEY)
    event = EventFactory(endpoint=endpoint, payload={"order_id": "77"})
    await session.commit()
    await process_event(runtime, event.tenant_id, event.id)

    response = await client.get(f"/api/events/{event.id}", headers=_auth())
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["status"] == "done"
    assert body["payload"] == {"order_id": "77"}
    assert body["result"]["echo"] == {"order_id": "77"}
    [attempt] = body["attempt_log"]
    assert attempt["outcome"] == "done"
    assert attempt["number"] == 1
    assert attempt["log"][0]["message"] == "echoed the payload"


async def test_another_tenants_event_is_not_found(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    event = EventFactory()
    ApiKeyFactory(tenant=TenantFactory(), key=OTHER_KEY)
    await session.commit()
    response = await client.get(f"/api/events/{event.id}", headers=_auth(OTHER_KEY))
    assert response.status_code == 404
    listing = await client.get("/api/events", headers=_auth(OTHER_KEY))
    assert listing.json()["items"] == []


async def test_list_filters_by_status_and_pages_newest_first(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    endpoint = InboundEndpointFactory()
    ApiKeyFactory(tenant=endpoint.installation.tenant, key=KEY)
    start = utcnow()
    events = [
        EventFactory(
            endpoint=endpoint,
            received_at=start + timedelta(seconds=i),
            status=EventStatus.failed if i % 2 else EventStatus.done,
        )
        for i in range(5)
    ]
    await session.commit()

    first = (await client.get("/api/events?limit=2", headers=_auth())).json()
    assert [item["id"] for item in first["items"]] == [str(events[4].id), str(events[3].id)]
    second = (
        await client.get(f"/api/events?limit=2&before={first['next_cursor']}", headers=_auth())
    ).json()
    assert [item["id"] for item in second["items"]] == [str(events[2].id), str(events[1].id)]
    third = (
        await client.get(f"/api/events?limit=2&before={second['next_cursor']}", headers=_auth())
    ).json()
    assert [item["id"] for item in third["items"]] == [str(events[0].id)]
    assert third["next_cursor"] is None

    failed = (await client.get("/api/events?status=failed", headers=_auth())).json()
    assert {item["id"] for item in failed["items"]} == {str(events[1].id), str(events[3].id)}


async def test_bad_query_values_are_explained(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    ApiKeyFactory(key=KEY)
    await session.commit()
    bad_status = await client.get("/api/events?status=lost", headers=_auth())
    assert bad_status.status_code == 422
    assert bad_status.json()["error"]["field"] == "status"
    bad_cursor = await client.get("/api/events?before=zzz", headers=_auth())
    assert bad_cursor.status_code == 400
    assert bad_cursor.json()["error"] == {
        "code": "invalid_cursor",
        "message": "the cursor is not one this API returned",
        "field": "before",
    }
    naive = await client.get("/api/events?received_after=2026-01-01T00:00:00", headers=_auth())
    assert naive.status_code == 422
    assert naive.json()["error"]["field"] == "received_after"
    assert "timezone" in naive.json()["error"]["message"]
    overflowing = await client.get(
        "/api/events", params={"received_before": "0001-01-01T00:00:00+05:00"}, headers=_auth()
    )
    assert overflowing.status_code == 422
    assert overflowing.json()["error"]["message"].endswith(
        "the time is out of range once converted to UTC"
    )


async def test_missing_wrong_and_revoked_keys_are_refused(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    ApiKeyFactory(key=KEY, revoked_at=utcnow())
    await session.commit()
    missing = await client.get("/api/events")
    assert missing.status_code == 401
    assert missing.headers["www-authenticate"] == "Bearer"
    wrong = await client.get("/api/events", headers=_auth("jk_nope_nope"))
    assert wrong.json()["error"]["message"] == "the API key is not valid"
    revoked = await client.get("/api/events", headers=_auth())
    assert revoked.status_code == 401


ADMIN = "jk_apiadmin_" + "m" * 43


async def test_list_filters_by_endpoint_time_and_key(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    first = InboundEndpointFactory()
    second = InboundEndpointFactory(
        installation__tenant=first.installation.tenant, installation__plugin="other"
    )
    ApiKeyFactory(tenant=first.installation.tenant, key=KEY)
    start = utcnow()
    early = EventFactory(endpoint=first, received_at=start, idempotency_key="src:order-A-17")
    late = EventFactory(
        endpoint=first, received_at=start + timedelta(hours=1), idempotency_key="src:order-B"
    )
    other = EventFactory(endpoint=second, received_at=start, idempotency_key="src:order-A-18")
    await session.commit()

    async def ids(**params: str) -> set[str]:
        body = (await client.get("/api/events", params=params, headers=_auth())).json()
        return {item["id"] for item in body["items"]}

    assert await ids(endpoint_id=str(first.id)) == {str(early.id), str(late.id)}
    after = (start + timedelta(minutes=30)).isoformat()
    assert await ids(received_after=after) == {str(late.id)}
    assert await ids(received_before=after) == {str(early.id), str(other.id)}
    assert await ids(key="order-A") == {str(early.id), str(other.id)}
    assert await ids(key="%") == set()


async def test_one_failed_event_is_replayed_and_audited(
    client: httpx.AsyncClient, session: AsyncSession, runtime: Runtime
) -> None:
    endpoint = InboundEndpointFactory()
    ApiKeyFactory(tenant=endpoint.installation.tenant, key=ADMIN, role=Role.admin)
    ApiKeyFactory(tenant=endpoint.installation.tenant, key=KEY)
    event = EventFactory(endpoint=endpoint, payload={"echo_fail": "permanent"})
    await session.commit()
    await process_event(runtime, event.tenant_id, event.id)

    viewer = await client.post(f"/api/events/{event.id}/replay", headers=_auth())
    assert viewer.status_code == 403
    response = await client.post(f"/api/events/{event.id}/replay", headers=_auth(ADMIN))
    assert response.status_code == 202
    assert response.json()["replayed"] == 1
    detail = (await client.get(f"/api/events/{event.id}", headers=_auth())).json()
    assert detail["status"] == "received"
    assert detail["last_error"] is None
    assert len(detail["attempt_log"]) == 1  # the first attempt's log stays readable
    again = await client.post(f"/api/events/{event.id}/replay", headers=_auth(ADMIN))
    assert again.status_code == 409
    assert again.json()["error"]["message"] == "the event is received; it is still on its way"
    with cross_tenant(session, "test: audit"):
        [entry] = (await session.scalars(select(AuditEntry))).all()
    assert entry.action == "events.replayed"
    assert entry.diff["count"]["to"] == 1


async def test_every_matching_event_is_replayed(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    endpoint = InboundEndpointFactory()
    ApiKeyFactory(tenant=endpoint.installation.tenant, key=ADMIN, role=Role.admin)
    failed = EventFactory.create_batch(3, endpoint=endpoint, status=EventStatus.failed)
    EventFactory.create_batch(2, endpoint=endpoint, status=EventStatus.done)
    EventFactory(endpoint=endpoint, status=EventStatus.retrying)
    await session.commit()
    response = await client.post(
        "/api/events/replay", json={"status": "failed"}, headers=_auth(ADMIN)
    )
    assert response.json()["replayed"] == 3
    everything = await client.post("/api/events/replay", json={}, headers=_auth(ADMIN))
    # The three are on their way again; the two done ones replay; the retrying one is left.
    assert everything.json()["replayed"] == 2
    session.expunge_all()
    with cross_tenant(session, "test: statuses"):
        statuses = {e.id: e.status for e in (await session.scalars(select(Event))).all()}
    assert all(statuses[e.id] is EventStatus.received for e in failed)
    bad = await client.post("/api/events/replay", json={"status": "lost"}, headers=_auth(ADMIN))
    assert bad.status_code == 422


async def test_a_replays_progress_is_followed_until_none_is_pending(
    client: httpx.AsyncClient, session: AsyncSession, runtime: Runtime
) -> None:
    endpoint = InboundEndpointFactory()
    ApiKeyFactory(tenant=endpoint.installation.tenant, key=ADMIN, role=Role.admin)
    ApiKeyFactory(tenant=endpoint.installation.tenant, key=KEY)
    fixed = EventFactory.create_batch(3, endpoint=endpoint, status=EventStatus.failed)
    still = EventFactory(
        endpoint=endpoint, status=EventStatus.failed, payload={"echo_fail": "permanent"}
    )
    await session.commit()
    started = await client.post(
        "/api/events/replay", json={"status": "failed"}, headers=_auth(ADMIN)
    )
    assert started.status_code == 202
    replay_id = started.json()["replay_id"]

    async def progress() -> dict[str, object]:
        answer = await client.get(f"/api/events/replays/{replay_id}", headers=_auth())
        assert answer.status_code == 200, answer.text
        return dict(answer.json())

    assert await progress() == {
        "replay_id": replay_id,
        "total": 4,
        "pending": 4,
        "done": 0,
        "failed": 0,
        "paused": 0,
        "needs_review": 0,
    }
    for event in [*fixed, still]:
        await process_event(runtime, event.tenant_id, event.id)
    assert await progress() == {
        "replay_id": replay_id,
        "total": 4,
        "pending": 0,
        "done": 3,
        "failed": 1,
        "paused": 0,
        "needs_review": 0,
    }
    # Replayed again on its own, the failed one is that later replay's.
    await client.post(f"/api/events/{still.id}/replay", headers=_auth(ADMIN))
    assert (await progress())["total"] == 3
    # Another workspace's replay is not visible.
    other = TenantFactory()
    ApiKeyFactory(tenant=other, key=OTHER_KEY)
    await session.commit()
    foreign = await client.get(f"/api/events/replays/{replay_id}", headers=_auth(OTHER_KEY))
    assert foreign.status_code == 404
