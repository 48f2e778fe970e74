"""Endpoints: URLs, token rotation with a grace period, and the intake log."""

from __future__ import annotations

import hashlib
import hmac
from datetime import timedelta

import httpx
from fastapi import FastAPI
from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from junction.audit.models import AuditEntry
from junction.db.base import utcnow
from junction.db.tenancy import cross_tenant
from junction.intake.models import InboundEndpoint
from junction.tenancy.models import Role
from tests.factories import ApiKeyFactory, InboundEndpointFactory

ADMIN = "jk_epadmin_" + "e" * 43
VIEWER = "jk_epviewer_" + "v" * 43


async def _setup(session: AsyncSession, **endpoint: object) -> InboundEndpoint:
    created = InboundEndpointFactory(**endpoint)
    ApiKeyFactory(tenant=created.installation.tenant, key=ADMIN, role=Role.admin)
    ApiKeyFactory(tenant=created.installation.tenant, key=VIEWER)
    await session.commit()
    return created


def _auth(key: str = ADMIN) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}"}


def _path(url: str) -> str:
    return "/hooks/" + url.rsplit("/hooks/", 1)[1]


async def test_a_rotated_token_keeps_working_through_its_grace_period(
    app: FastAPI, client: httpx.AsyncClient, session: AsyncSession
) -> None:
    endpoint = await _setup(session, token="tok-before-rotation")
    [listed] = (await client.get("/api/endpoints", headers=_auth(VIEWER))).json()
    assert _path(listed["url"]) == "/hooks/tok-before-rotation"

    viewer = await client.post(
        f"/api/endpoints/{endpoint.id}/rotate-token", json={}, headers=_auth(VIEWER)
    )
    assert viewer.status_code == 403
    rotated = await client.post(
        f"/api/endpoints/{endpoint.id}/rotate-token", json={"grace_seconds": 3600}, headers=_auth()
    )
    assert rotated.status_code == 200, rotated.text
    new_path = _path(rotated.json()["url"])
    assert new_path != "/hooks/tok-before-rotation"
    assert rotated.json()["previous_token_valid_until"] is not None

    assert (
        await client.post("/hooks/tok-before-rotation", json={"order_id": "1"})
    ).status_code == 202
    assert (await client.post(new_path, json={"order_id": "2"})).status_code == 202

    # The grace period ends: the old URL is unknown, the new one works.
    with cross_tenant(session, "test: end the grace period"):
        await session.execute(
            update(InboundEndpoint)
            .where(InboundEndpoint.id == endpoint.id)
            .values(previous_token_valid_until=utcnow() - timedelta(seconds=1))
        )
    await session.commit()
    # A change made outside the API process is seen once its remembered routes expire.
    app.state.runtime.endpoint_routes.forget()
    assert (
        await client.post("/hooks/tok-before-rotation", json={"order_id": "3"})
    ).status_code == 404
    assert (await client.post(new_path, json={"order_id": "4"})).status_code == 202
    with cross_tenant(session, "test: audit"):
        [entry] = (await session.scalars(select(AuditEntry))).all()
    assert entry.action == "endpoint.token_rotated"


async def test_a_rotation_without_grace_retires_the_old_url_at_once(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    endpoint = await _setup(session, token="tok-retired")
    rotated = await client.post(
        f"/api/endpoints/{endpoint.id}/rotate-token", json={"grace_seconds": 0}, headers=_auth()
    )
    assert rotated.json()["previous_token_valid_until"] is None
    assert (await client.post("/hooks/tok-retired", json={"order_id": "1"})).status_code == 404
    too_long = await client.post(
        f"/api/endpoints/{endpoint.id}/rotate-token", json={"grace_seconds": 10**8}, headers=_auth()
    )
    assert too_long.status_code == 422
    assert too_long.json()["error"]["field"] == "grace_seconds"


async def test_refused_deliveries_are_kept_in_the_intake_log(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    endpoint = await _setup(session, token="tok-signed-log", signing_secret="s3cret")
    body = b'{"order_id": "forged", "phone": "+7000"}'
    refused = await client.post(
        "/hooks/tok-signed-log",
        content=body,
        headers={"Content-Type": "application/json", "X-Echo-Signature": "00"},
    )
    assert refused.status_code == 401
    log = await client.get(f"/api/endpoints/{endpoint.id}/refusals", headers=_auth(VIEWER))
    [entry] = log.json()
    assert entry["status_code"] == 401
    assert entry["reason"] == "bad signature"
    assert entry["size"] == len(body)
    assert "+7000" not in log.text
    assert (await client.get("/api/events", headers=_auth())).json()["items"] == []


async def test_a_workspace_creates_an_endpoint_that_takes_deliveries(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    existing = await _setup(session, token="tok-existing")
    formats = (await client.get("/api/endpoints/formats", headers=_auth())).json()
    [echo] = [f for f in formats if f["name"] == "echo"]
    assert echo["title"] == "Echo (any JSON or form body)"
    assert echo["i18n"] == {"ru": {"title": "Эхо (любое тело JSON или формы)"}}
    assert echo["sample"] is None
    [opencart] = [f for f in formats if f["name"] == "opencart"]
    assert opencart["sample"]["content_type"] == "application/json"
    assert '"order_id": "1001"' in opencart["sample"]["body"]

    body = {
        "name": "Second shop",
        "source_format": "echo",
        "installation_id": str(existing.installation_id),
    }
    refused = await client.post("/api/endpoints", json=body, headers=_auth(VIEWER))
    assert refused.status_code == 403
    unknown = await client.post(
        "/api/endpoints", json={**body, "source_format": "bitrix"}, headers=_auth()
    )
    assert unknown.status_code == 422
    assert unknown.json()["error"]["field"] == "source_format"
    assert "echo" in unknown.json()["error"]["message"]
    elsewhere = await client.post(
        "/api/endpoints",
        json={**body, "installation_id": "00000000-0000-4000-8000-000000000000"},
        headers=_auth(),
    )
    assert elsewhere.status_code == 422
    assert elsewhere.json()["error"]["field"] == "installation_id"

    created = await client.post("/api/endpoints", json=body, headers=_auth())
    assert created.status_code == 201, created.text
    assert created.json()["name"] == "Second shop"
    delivered = await client.post(_path(created.json()["url"]), json={"order_id": "n-1"})
    assert delivered.status_code == 202
    names = [e["name"] for e in (await client.get("/api/endpoints", headers=_auth())).json()]
    assert "Second shop" in names
    with cross_tenant(session, "test: the audit entry"):
        actions = list(
            await session.scalars(
                select(AuditEntry.action).where(AuditEntry.tenant_id == existing.tenant_id)
            )
        )
    assert "endpoint.created" in actions


async def test_a_signing_secret_is_revealed_rotated_and_removed_by_managers_only(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    endpoint = await _setup(session, token="tok-signing")
    url = f"/api/endpoints/{endpoint.id}/signing-secret"
    assert (await client.get(url, headers=_auth(VIEWER))).status_code == 403
    assert (await client.get(url, headers=_auth())).json() == {"secret": None}

    made = (await client.post(url, json={}, headers=_auth())).json()["secret"]
    assert len(made) >= 40
    assert (await client.get(url, headers=_auth())).json() == {"secret": made}
    listed = (await client.get("/api/endpoints", headers=_auth())).json()
    assert next(e for e in listed if e["id"] == str(endpoint.id))["signed"] is True
    # Deliveries must now carry the signature (the echo source's HMAC of the body).
    body = b'{"order_id": "s-1"}'
    unsigned = await client.post("/hooks/tok-signing", content=body)
    assert unsigned.status_code == 401
    signature = hmac.new(made.encode(), body, hashlib.sha256).hexdigest()
    signed = await client.post(
        "/hooks/tok-signing", content=body, headers={"X-Echo-Signature": signature}
    )
    assert signed.status_code == 202

    removed = await client.post(url, json={"enabled": False}, headers=_auth())
    assert removed.json() == {"secret": None}
    assert (
        await client.post("/hooks/tok-signing", content=b'{"order_id": "s-2"}')
    ).status_code == 202
    with cross_tenant(session, "test: the audit entries"):
        actions = list(
            await session.scalars(
                select(AuditEntry.action)
                .where(AuditEntry.tenant_id == endpoint.tenant_id)
                .order_by(AuditEntry.created_at)
            )
        )
    assert actions == [
        "endpoint.secret_revealed",
        "endpoint.secret_rotated",
        "endpoint.secret_revealed",
        "endpoint.secret_removed",
    ]
    assert made not in str(actions)


async def test_a_test_order_is_stored_like_a_shops_delivery(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    """Sent from the endpoint's page: the format's sample with a new order id each time,
    taken even where deliveries must be signed (the member is signed in, not the shop)."""
    endpoint = await _setup(session, token="tok-test-order", source_format="opencart")
    secret = await client.post(
        f"/api/endpoints/{endpoint.id}/signing-secret", json={"enabled": True}, headers=_auth()
    )
    assert secret.status_code == 200
    refused = await client.post(f"/api/endpoints/{endpoint.id}/test-order", headers=_auth(VIEWER))
    assert refused.status_code == 403
    first = await client.post(f"/api/endpoints/{endpoint.id}/test-order", headers=_auth())
    second = await client.post(f"/api/endpoints/{endpoint.id}/test-order", headers=_auth())
    assert first.status_code == second.status_code == 202, first.text
    assert first.json()["order_id"] != second.json()["order_id"]
    event = (await client.get(f"/api/events/{first.json()['event_id']}", headers=_auth())).json()
    assert event["payload"]["order_id"] == first.json()["order_id"]
    assert event["payload"]["customer_id"] == "700100"
    # The shop itself must still sign.
    unsigned = await client.post("/hooks/tok-test-order", json={"order_id": "x"})
    assert unsigned.status_code == 401

    echo = InboundEndpointFactory(token="tok-echo-sample", installation=endpoint.installation)
    await session.commit()
    none = await client.post(f"/api/endpoints/{echo.id}/test-order", headers=_auth())
    assert none.status_code == 409
    assert none.json()["error"]["message"] == "the format 'echo' has no sample order"
