"""The staff console: tenants, plugins, suspension, impersonation, sessions, audit."""

from __future__ import annotations

from datetime import timedelta

from fastapi import FastAPI
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from junction.audit.models import ActorType, AuditEntry
from junction.connections.models import Connection, ConnectionStatus
from junction.db.base import utcnow
from junction.db.tenancy import cross_tenant, scope_to_tenant
from junction.events.models import EventStatus
from junction.tenancy.models import Role, Tenant, TenantStatus
from tests.factories import (
    EventFactory,
    InboundEndpointFactory,
    PluginInstallationFactory,
    TenantFactory,
    secretbox,
)
from tests.support.accounts import sign_in, sign_in_staff


async def _audit(session: AsyncSession, tenant_id: object) -> list[AuditEntry]:
    scope_to_tenant(session, tenant_id)  # type: ignore[arg-type]
    return list(await session.scalars(select(AuditEntry).order_by(AuditEntry.created_at)))


async def test_staff_find_tenants_and_install_plugins(app: FastAPI, session: AsyncSession) -> None:
    shop = TenantFactory(slug="north-shop", name="North Shop")
    TenantFactory(slug="south-shop", name="South Shop")
    async with (
        await sign_in_staff(app, session) as staff,
        await sign_in(app, session, shop) as owner,
    ):
        found = (await staff.client.get("/api/staff/tenants", params={"q": "north"})).json()
        assert [t["slug"] for t in found] == ["north-shop"]
        assert found[0]["members"] == 1
        # Tenants cannot reach the console.
        assert (await owner.client.get("/api/staff/tenants")).status_code == 403

        installed = await staff.client.post(
            f"/api/staff/tenants/{shop.id}/installations",
            json={"plugin": "echo", "config": {"label": "north"}},
            headers=staff.headers,
        )
        assert installed.status_code == 201, installed.text
        again = await staff.client.post(
            f"/api/staff/tenants/{shop.id}/installations",
            json={"plugin": "echo"},
            headers=staff.headers,
        )
        assert again.status_code == 409
        unknown = await staff.client.post(
            f"/api/staff/tenants/{shop.id}/installations",
            json={"plugin": "no-such-plugin"},
            headers=staff.headers,
        )
        assert unknown.status_code == 422
        # The tenant's admins configure what staff installed.
        listed = (await owner.client.get("/api/installations")).json()
        assert [i["plugin"] for i in listed] == ["echo"]

        removed = await staff.client.delete(
            f"/api/staff/tenants/{shop.id}/installations/{installed.json()['id']}",
            headers=staff.headers,
        )
        assert removed.status_code == 204
        assert (await owner.client.get("/api/installations")).json() == []

        log = (await staff.client.get(f"/api/staff/tenants/{shop.id}/audit")).json()
        assert [e["action"] for e in log] == ["installation.uninstalled", "installation.installed"]
        assert {e["actor_type"] for e in log} == {"staff"}
        # Owners read the same log.
        assert [e["action"] for e in (await owner.client.get("/api/audit")).json()] == [
            e["action"] for e in log
        ]


async def test_a_suspended_tenant_keeps_its_orders_waiting(
    app: FastAPI, session: AsyncSession
) -> None:
    endpoint = InboundEndpointFactory(installation=PluginInstallationFactory(), token="tok-held")
    tenant_id = endpoint.tenant_id
    await session.commit()
    async with await sign_in_staff(app, session) as staff:
        suspended = await staff.client.post(
            f"/api/staff/tenants/{tenant_id}/suspend", headers=staff.headers
        )
        assert suspended.json()["status"] == "suspended"
        # Its shop's deliveries are still taken.
        delivered = await staff.client.post("/hooks/tok-held", json={"order_id": "held-1"})
        assert delivered.status_code == 202
        resumed = await staff.client.post(
            f"/api/staff/tenants/{tenant_id}/resume", headers=staff.headers
        )
        assert resumed.json()["status"] == "active"
    actions = [entry.action for entry in await _audit(session, tenant_id)]
    assert actions == ["tenant.suspended", "tenant.resumed"]
    tenant = await session.get(Tenant, tenant_id)
    assert tenant is not None
    await session.refresh(tenant)
    assert tenant.status is TenantStatus.active


async def test_impersonation_is_read_only_and_audited(app: FastAPI, session: AsyncSession) -> None:
    event = EventFactory(status=EventStatus.failed)
    tenant_id = event.tenant_id
    await session.commit()
    with cross_tenant(session, "test: the workspace's name"):
        name = await session.scalar(select(Tenant.name).where(Tenant.id == tenant_id))
    async with await sign_in_staff(app, session) as staff:
        started = await staff.client.post(
            f"/api/staff/tenants/{tenant_id}/impersonate", headers=staff.headers
        )
        assert started.status_code == 200
        me = (await staff.client.get("/api/auth/me")).json()
        assert me["impersonating"] is True
        assert me["role"] == "viewer"
        # The banner names the workspace looked at, though staff are no member of it.
        assert me["workspace_name"] == name
        assert name not in [w["name"] for w in me["workspaces"]]
        assert (await staff.client.get(f"/api/events/{event.id}")).status_code == 200
        replay = await staff.client.post(f"/api/events/{event.id}/replay", headers=staff.headers)
        assert replay.status_code == 403
        assert replay.json()["error"]["code"] == "read_only"
        # The console itself waits until the impersonation ends.
        assert (await staff.client.get("/api/staff/tenants")).status_code == 403
        ended = await staff.client.post("/api/staff/impersonation/end", headers=staff.headers)
        assert ended.status_code == 200
        assert (await staff.client.get("/api/staff/tenants")).status_code == 200
        # Back in their own workspace, as they were before looking inside.
        back = (await staff.client.get("/api/auth/me")).json()
        assert back["impersonating"] is False
        assert back["workspace_name"] == "Junction staff"
        assert back["role"] == "owner"
    entries = await _audit(session, tenant_id)
    assert [entry.action for entry in entries] == [
        "staff.impersonation_started",
        "staff.viewed",
        "staff.impersonation_ended",
    ]
    assert entries[1].target_id == "/api/events/{event_id}"
    assert all(entry.actor_type is ActorType.staff for entry in entries)


async def test_staff_end_a_persons_sessions_or_everyones(
    app: FastAPI, session: AsyncSession
) -> None:
    tenant = TenantFactory()
    async with (
        await sign_in_staff(app, session) as staff,
        await sign_in(app, session, tenant) as owner,
        await sign_in(app, session, tenant, Role.viewer) as viewer,
    ):
        owner_id = (await owner.client.get("/api/auth/me")).json()["user"]["id"]
        ended = await staff.client.post(
            f"/api/staff/users/{owner_id}/sessions/end", headers=staff.headers
        )
        assert ended.json() == {"ended": 1}
        assert (await owner.client.get("/api/auth/me")).status_code == 401
        assert (await viewer.client.get("/api/auth/me")).status_code == 200
        everyone = await staff.client.post("/api/staff/sessions/end-all", headers=staff.headers)
        assert everyone.json()["ended"] >= 2
        assert (await viewer.client.get("/api/auth/me")).status_code == 401
        assert (await staff.client.get("/api/auth/me")).status_code == 401


async def test_staff_see_every_unhealthy_connection_with_what_it_holds_up(
    app: FastAPI, session: AsyncSession
) -> None:
    tenant = TenantFactory(slug="stuck-shop")
    scope_to_tenant(session, tenant.id)
    broken = Connection(
        tenant_id=tenant.id,
        provider="amocrm",
        account_ref="77",
        name="amoCRM 77",
        status=ConnectionStatus.needs_reauth,
        secrets_encrypted=secretbox.encrypt_json({"access_token": "x"}),
    )
    fine = Connection(
        tenant_id=tenant.id,
        provider="amocrm",
        account_ref="78",
        name="amoCRM 78",
        secrets_encrypted=secretbox.encrypt_json({"access_token": "y"}),
    )
    session.add_all([broken, fine])
    await session.flush()
    for _ in range(2):
        EventFactory(
            endpoint=None,
            endpoint_id=None,
            tenant_id=tenant.id,
            status=EventStatus.paused,
            paused_connection_id=broken.id,
        )
    await session.commit()
    session.info.clear()
    async with await sign_in_staff(app, session) as staff:
        listed = (await staff.client.get("/api/staff/connections")).json()
    [row] = [item for item in listed if item["tenant_slug"] == "stuck-shop"]
    # The healthy one is not listed.
    assert (row["name"], row["status"], row["paused_events"]) == ("amoCRM 77", "needs_reauth", 2)
    assert "secrets" not in str(listed)


async def test_staff_see_the_plugins_they_can_install(app: FastAPI, session: AsyncSession) -> None:
    async with await sign_in_staff(app, session) as staff:
        listed = (await staff.client.get("/api/staff/plugins")).json()
    by_name = {plugin["name"]: plugin for plugin in listed}
    assert {"echo", "order_to_lead", "mobcash", "amocrm", "shops"} <= set(by_name)
    order_to_lead = by_name["order_to_lead"]
    assert order_to_lead["title"] == "Order → lead"
    assert order_to_lead["description"].startswith("Each shop order becomes an amoCRM lead")
    assert order_to_lead["i18n"]["ru"]["title"] == "Заказ → сделка"
    async with await sign_in(app, session, TenantFactory()) as owner:
        assert (await owner.client.get("/api/staff/plugins")).status_code == 403


async def test_a_tenant_sees_its_plugins_by_their_titles(
    app: FastAPI, session: AsyncSession
) -> None:
    shop = TenantFactory()
    PluginInstallationFactory(plugin="echo", tenant=shop)
    # A plugin this installation no longer loads is still listed, by its name.
    PluginInstallationFactory(plugin="retired", tenant=shop)
    await session.commit()
    session.info.clear()
    async with await sign_in(app, session, shop) as owner:
        listed = (await owner.client.get("/api/installations")).json()
    assert [(i["plugin"], i["title"], i["description"], i["i18n"]) for i in listed] == [
        (
            "echo",
            "Echo",
            "Records the payload of every event it receives.",
            {"ru": {"title": "Эхо", "description": "Записывает тело каждого события."}},
        ),
        ("retired", "retired", "", {}),
    ]


async def test_staff_see_failing_events_across_tenants_and_each_tenants_plugins(
    app: FastAPI, session: AsyncSession
) -> None:
    north = InboundEndpointFactory(
        installation=PluginInstallationFactory(
            plugin="echo", tenant=TenantFactory(slug="north-fail")
        )
    )
    south = InboundEndpointFactory(
        installation=PluginInstallationFactory(
            plugin="echo", tenant=TenantFactory(slug="south-fail")
        )
    )
    unconfigured = PluginInstallationFactory(
        plugin="order_to_lead", tenant=south.installation.tenant, config={}
    )
    now = utcnow()
    failed = EventFactory(
        endpoint=north,
        status=EventStatus.failed,
        last_error="order 7: no partner 77",
        updated_at=now - timedelta(minutes=5),
    )
    review = EventFactory(endpoint=south, status=EventStatus.needs_review, updated_at=now)
    EventFactory(endpoint=north, status=EventStatus.done)
    EventFactory(endpoint=south, status=EventStatus.retrying)
    await session.commit()
    session.info.clear()
    async with (
        await sign_in_staff(app, session) as staff,
        await sign_in(app, session, north.installation.tenant) as owner,
    ):
        listed = (await staff.client.get("/api/staff/events")).json()
        ours = [e for e in listed if e["tenant_slug"] in ("north-fail", "south-fail")]
        assert [(e["id"], e["tenant_slug"], e["status"], e["plugin"]) for e in ours] == [
            (str(review.id), "south-fail", "needs_review", "echo"),
            (str(failed.id), "north-fail", "failed", "echo"),
        ]
        assert ours[1]["last_error"] == "order 7: no partner 77"
        one = (
            await staff.client.get("/api/staff/events", params={"tenant_id": str(north.tenant_id)})
        ).json()
        assert [e["id"] for e in one] == [str(failed.id)]
        assert (await owner.client.get("/api/staff/events")).status_code == 403

        plugins = (
            await staff.client.get(f"/api/staff/tenants/{south.tenant_id}/installations")
        ).json()
        assert [(p["plugin"], p["configured"], p["endpoints"]) for p in plugins] == [
            ("echo", True, 1),
            ("order_to_lead", False, 0),
        ]
        assert plugins[1]["id"] == str(unconfigured.id)
