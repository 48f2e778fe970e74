"""Alert channels through the API: each kind reaches a real local receiver (SMTP capture,
an HTTP server for webhooks and for the Telegram Bot API's stand-in), bad input is refused
with the field named, and secrets are never shown again."""

from __future__ import annotations

import json
import uuid
from collections.abc import AsyncIterator

import httpx
import pytest
from asgi_lifespan import LifespanManager
from fastapi import FastAPI
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from junction.accounts.capture import MailCapture
from junction.alerts.channels import SIGNATURE_HEADER
from junction.app import create_app
from junction.plugins.registry import PluginRegistry
from junction.settings import Settings
from junction.tenancy.models import Role
from tests.factories import ApiKeyFactory, TenantFactory
from tests.support.fixtures import TELEGRAM_BOT_TOKEN
from tests.support.mail import mail_to
from tests.support.receiver import UNKNOWN_CHAT, Receiver, signed_by

OWN_BOT = "987654321:AAEownBotOfTheWorkspaceBBBBBBBBBBBBB"


@pytest.fixture
async def api(app: FastAPI, session: AsyncSession) -> AsyncIterator[httpx.AsyncClient]:
    tenant = TenantFactory(name="Tea Shop")
    key = f"jk_alerts_{uuid.uuid4().hex}"
    ApiKeyFactory(tenant=tenant, key=key, role=Role.admin)
    await session.commit()
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app),
        base_url="http://junction.test",
        headers={"Authorization": f"Bearer {key}"},
    ) as client:
        yield client


async def _create(api: httpx.AsyncClient, **body: object) -> dict[str, object]:
    answer = await api.post("/api/alerts/channels", json=body)
    assert answer.status_code == 201, answer.text
    created: dict[str, object] = answer.json()
    return created


async def test_an_email_channel_gets_the_test_alert(
    api: httpx.AsyncClient, mail_capture: MailCapture
) -> None:
    channel = await _create(
        api, kind="email", name="Ops", recipients=["ops@example.com", "boss@example.com"]
    )
    sent = (await api.post(f"/api/alerts/channels/{channel['id']}/test")).json()
    assert sent["status"] == "sent", sent
    for address in ("ops@example.com", "boss@example.com"):
        mail = mail_to(mail_capture, address, "Test alert from Junction")
        assert "Ops" in mail.body
    [listed] = (await api.get("/api/alerts/channels")).json()
    assert listed["recipients"] == ["ops@example.com", "boss@example.com"]
    [alert] = (await api.get("/api/alerts")).json()
    assert alert["kind"] == "test"
    assert alert["deliveries"][0]["status"] == "sent"


async def test_a_webhook_is_signed_with_a_secret_shown_once(
    api: httpx.AsyncClient, receiver: Receiver
) -> None:
    path = f"/hooks/{uuid.uuid4().hex}"
    channel = await _create(api, kind="webhook", name="Pager", url=f"{receiver.url}{path}")
    secret = str(channel["signing_secret"])
    assert secret.startswith("whsec_")
    listed = (await api.get("/api/alerts/channels")).text
    assert secret not in listed
    sent = (await api.post(f"/api/alerts/channels/{channel['id']}/test")).json()
    assert sent["status"] == "sent", sent
    [delivery] = receiver.at(path)
    assert signed_by(secret, delivery.headers[SIGNATURE_HEADER.lower()], delivery.body)
    assert not signed_by("whsec_wrong", delivery.headers[SIGNATURE_HEADER.lower()], delivery.body)
    assert delivery.json()["type"] == "test"
    assert delivery.headers["junction-delivery"] == sent["id"]

    rotated = (await api.post(f"/api/alerts/channels/{channel['id']}/rotate-secret")).json()
    await api.post(f"/api/alerts/channels/{channel['id']}/test")
    later = receiver.wait_for(path, 2)[1]
    signed = later.headers[SIGNATURE_HEADER.lower()]
    assert signed_by(rotated["signing_secret"], signed, later.body)
    assert not signed_by(secret, signed, later.body)


async def test_a_webhook_that_answers_500_is_reported(
    api: httpx.AsyncClient, receiver: Receiver
) -> None:
    channel = await _create(api, kind="webhook", name="Down", url=f"{receiver.url}/down")
    receiver.webhook_status = 500
    try:
        sent = (await api.post(f"/api/alerts/channels/{channel['id']}/test")).json()
    finally:
        receiver.webhook_status = 200
    assert sent["status"] == "failed"
    assert sent["last_error"] == "the webhook answered HTTP 500"


async def test_telegram_goes_through_the_installations_bot_or_the_workspaces_own(
    api: httpx.AsyncClient, receiver: Receiver
) -> None:
    shared = await _create(api, kind="telegram", name="Team chat", chat_id="-100123456")
    assert shared["own_bot"] is False
    sent = (await api.post(f"/api/alerts/channels/{shared['id']}/test")).json()
    assert sent["status"] == "sent", sent
    message = receiver.at(f"/bot{TELEGRAM_BOT_TOKEN}/sendMessage")[-1].json()
    assert message["chat_id"] == "-100123456"
    assert "Test alert from Junction for Tea Shop" in message["text"]

    own = await _create(
        api, kind="telegram", name="Own bot", chat_id="@teashop_ops", bot_token=OWN_BOT
    )
    assert own["own_bot"] is True
    assert OWN_BOT not in json.dumps(own)
    assert (await api.post(f"/api/alerts/channels/{own['id']}/test")).json()["status"] == "sent"
    assert receiver.at(f"/bot{OWN_BOT}/sendMessage")[-1].json()["chat_id"] == "@teashop_ops"


async def test_telegrams_refusal_is_reported_without_the_bot_token(
    api: httpx.AsyncClient,
) -> None:
    channel = await _create(
        api, kind="telegram", name="Gone", chat_id=UNKNOWN_CHAT, bot_token=OWN_BOT
    )
    sent = (await api.post(f"/api/alerts/channels/{channel['id']}/test")).json()
    assert sent["status"] == "failed"
    assert sent["last_error"] == "Telegram refused the message: Bad Request: chat not found"
    history = (await api.get("/api/alerts")).text
    assert OWN_BOT not in history


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"kind": "email", "name": "x", "recipients": ["not an address"]}, "recipients"),
        ({"kind": "email", "name": "x", "recipients": []}, "recipients"),
        ({"kind": "webhook", "name": "x", "url": "ftp://example.com/x"}, "url"),
        ({"kind": "telegram", "name": "x", "chat_id": "my chat"}, "chat_id"),
        ({"kind": "telegram", "name": "x", "chat_id": "1", "bot_token": "nope"}, "bot_token"),
        ({"kind": "pager", "name": "x"}, "kind"),
        ({"kind": "email", "name": "", "recipients": ["a@example.com"]}, "name"),
    ],
)
async def test_bad_channels_are_refused_naming_the_field(
    api: httpx.AsyncClient, body: dict[str, object], field: str
) -> None:
    answer = await api.post("/api/alerts/channels", json=body)
    assert answer.status_code == 422, answer.text
    assert field in answer.text
    assert (await api.get("/api/alerts/channels")).json() == []


async def test_a_field_of_another_kind_is_refused_on_update(api: httpx.AsyncClient) -> None:
    channel = await _create(api, kind="email", name="Ops", recipients=["ops@example.com"])
    answer = await api.patch(
        f"/api/alerts/channels/{channel['id']}", json={"url": "https://example.com/x"}
    )
    assert answer.status_code == 422
    assert answer.json()["error"]["message"] == "a email channel has no url"
    renamed = await api.patch(
        f"/api/alerts/channels/{channel['id']}", json={"name": "Night ops", "enabled": False}
    )
    assert renamed.json()["name"] == "Night ops"
    assert renamed.json()["enabled"] is False


async def test_webhooks_to_private_addresses_are_refused_unless_allowed(
    settings: Settings,
    registry: PluginRegistry,
    sessionmaker: async_sessionmaker[AsyncSession],
    session: AsyncSession,
) -> None:
    shared = create_app(
        settings.model_copy(update={"alert_webhooks_to_private_hosts": False}),
        registry=registry,
        sessionmaker=sessionmaker,
    )
    tenant = TenantFactory()
    ApiKeyFactory(tenant=tenant, key="jk_alerts_private", role=Role.owner)
    await session.commit()
    async with (
        LifespanManager(shared),
        httpx.AsyncClient(
            transport=httpx.ASGITransport(app=shared),
            base_url="http://junction.test",
            headers={"Authorization": "Bearer jk_alerts_private"},
        ) as api,
    ):
        for url in ("http://127.0.0.1:9/x", "http://10.1.2.3/x", "http://[::1]/x"):
            answer = await api.post(
                "/api/alerts/channels", json={"kind": "webhook", "name": "x", "url": url}
            )
            assert answer.status_code == 422, answer.text
            assert "private or local address" in answer.json()["error"]["message"]


async def test_the_reminder_interval_is_a_setting(api: httpx.AsyncClient) -> None:
    assert (await api.get("/api/alerts/settings")).json() == {"reminder_hours": 24}
    assert (await api.put("/api/alerts/settings", json={"reminder_hours": 6})).status_code == 200
    assert (await api.get("/api/alerts/settings")).json() == {"reminder_hours": 6}
    refused = await api.put("/api/alerts/settings", json={"reminder_hours": 0})
    assert refused.status_code == 422
    assert "reminder_hours" in refused.text
