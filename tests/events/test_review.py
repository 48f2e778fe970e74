"""Events under review through the API: settled by the workspace's admin or by staff,
never replayed before, audited."""

from __future__ import annotations

from fastapi import FastAPI
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from junction.audit.models import AuditEntry
from junction.db.tenancy import scope_to_tenant
from junction.events.models import Event, EventStatus
from junction.tenancy.models import Role
from tests.factories import (
    EventFactory,
    InboundEndpointFactory,
    PluginInstallationFactory,
    TenantFactory,
)
from tests.support.accounts import sign_in, sign_in_staff

REVIEW = {"review": {"payer_id": "42", "amount": "150.00", "request_id": "r-1"}}


def _under_review(endpoint: object) -> Event:
    made: Event = EventFactory(
        endpoint=endpoint,
        status=EventStatus.needs_review,
        result=REVIEW,
        last_error="the deposit may or may not have been made",
    )
    return made


async def test_an_admin_settles_an_event_under_review_and_only_then_replays_it(
    app: FastAPI, session: AsyncSession
) -> None:
    tenant = TenantFactory()
    event = _under_review(
        InboundEndpointFactory(installation=PluginInstallationFactory(tenant=tenant))
    )
    await session.commit()
    async with await sign_in(app, session, tenant, Role.admin) as admin:
        early = await admin.client.post(f"/api/events/{event.id}/replay", headers=admin.headers)
        assert early.status_code == 409
        assert early.json()["error"]["code"] == "needs_review"
        settled = await admin.client.post(
            f"/api/events/{event.id}/resolve",
            json={"applied": False, "note": "not in MobCash's operations"},
            headers=admin.headers,
        )
        assert settled.status_code == 200, settled.text
        assert settled.json()["status"] == "failed"
        assert settled.json()["last_error"] == (
            "resolved as not applied: not in MobCash's operations"
        )
        again = await admin.client.post(
            f"/api/events/{event.id}/resolve", json={"applied": True}, headers=admin.headers
        )
        assert again.status_code == 409
        assert again.json()["error"]["message"] == "the event is not waiting for review (failed)"
        replayed = await admin.client.post(f"/api/events/{event.id}/replay", headers=admin.headers)
        assert replayed.status_code == 202
        assert replayed.json()["replayed"] == 1
        detail = (await admin.client.get(f"/api/events/{event.id}")).json()
        assert detail["result"]["review"] == REVIEW["review"]
        assert detail["result"]["resolution"]["applied"] is False


async def test_staff_settle_a_tenants_event_and_viewers_cannot(
    app: FastAPI, session: AsyncSession
) -> None:
    tenant = TenantFactory()
    event = _under_review(
        InboundEndpointFactory(installation=PluginInstallationFactory(tenant=tenant))
    )
    await session.commit()
    async with (
        await sign_in(app, session, tenant, Role.viewer) as viewer,
        await sign_in_staff(app, session) as staff,
    ):
        refused = await viewer.client.post(
            f"/api/events/{event.id}/resolve", json={"applied": True}, headers=viewer.headers
        )
        assert refused.status_code == 403
        settled = await staff.client.post(
            f"/api/staff/tenants/{tenant.id}/events/{event.id}/resolve",
            json={"applied": True, "note": "seen in MobCash"},
            headers=staff.headers,
        )
        assert settled.status_code == 200, settled.text
        assert settled.json()["status"] == "done"
    scope_to_tenant(session, tenant.id)
    [entry] = await session.scalars(select(AuditEntry).where(AuditEntry.action == "event.resolved"))
    assert entry.actor_type.value == "staff"
    assert entry.diff["status"] == {"from": "needs_review", "to": "done"}
