"""Shop deliveries through the real intake: checks answered, signatures enforced."""

from __future__ import annotations

import base64
import hashlib
import hmac
from pathlib import Path

import httpx
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from junction.db.tenancy import scope_to_tenant
from junction.events.models import Event
from tests.factories import InboundEndpointFactory

ORDER = (
    Path(__file__).parent
    / "real-payloads/woocommerce/wc-rest-api-docs_wp-api-v3_create-order_response.json"
)


async def test_a_woocommerce_ping_is_answered_and_its_orders_must_be_signed(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    endpoint = InboundEndpointFactory(
        token="tok-woo", source_format="woocommerce", signing_secret="woo-secret"
    )
    await session.commit()

    # WooCommerce's unsigned ping when the webhook is created: 200, nothing stored.
    ping = await client.post(
        "/hooks/tok-woo",
        content=b"webhook_id=31",
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )
    assert ping.status_code == 200
    assert ping.json() == {"acknowledged": "WooCommerce's ping on creating the webhook"}

    body = ORDER.read_bytes()
    unsigned = await client.post(
        "/hooks/tok-woo", content=body, headers={"Content-Type": "application/json"}
    )
    assert unsigned.status_code == 401
    signature = base64.b64encode(hmac.new(b"woo-secret", body, hashlib.sha256).digest())
    signed = await client.post(
        "/hooks/tok-woo",
        content=body,
        headers={"Content-Type": "application/json", "X-WC-Webhook-Signature": signature.decode()},
    )
    assert signed.status_code == 202, signed.text

    scope_to_tenant(session, endpoint.tenant_id)
    [key] = (await session.scalars(select(Event.idempotency_key))).all()
    assert key == "src:order:727"
    assert await session.scalar(select(func.count()).select_from(Event)) == 1


async def test_a_tilda_api_key_is_checked_and_never_stored(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    import json
    from urllib.parse import urlencode

    endpoint = InboundEndpointFactory(
        token="tok-tilda", source_format="tilda", signing_secret="tilda-key"
    )
    await session.commit()
    payment = json.dumps({"orderid": "77", "amount": "10", "products": []})
    form = {"Name": "A B", "payment": payment, "junction_key": "tilda-key"}
    wrong = await client.post(
        "/hooks/tok-tilda",
        content=urlencode({**form, "junction_key": "guess"}).encode(),
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )
    assert wrong.status_code == 401
    by_field = await client.post(
        "/hooks/tok-tilda",
        content=urlencode(form).encode(),
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )
    assert by_field.status_code == 202, by_field.text
    by_header = await client.post(
        "/hooks/tok-tilda",
        content=urlencode({**form, "payment": payment.replace("77", "78")})
        .encode()
        .replace(b"junction_key=tilda-key", b"x=1"),
        headers={
            "Content-Type": "application/x-www-form-urlencoded",
            "X-Junction-Key": "tilda-key",
        },
    )
    assert by_header.status_code == 202, by_header.text

    scope_to_tenant(session, endpoint.tenant_id)
    stored = (await session.scalars(select(Event))).all()
    assert len(stored) == 2
    for event in stored:
        assert "junction_key" not in event.payload
        assert "x-junction-key" not in event.headers
        assert "tilda-key" not in json.dumps(event.payload) + json.dumps(event.headers)
