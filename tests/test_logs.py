"""Log output: one JSON object per line, with the ids of what is being handled."""

from __future__ import annotations

import json
import logging
import uuid

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy.ext.asyncio import AsyncSession

from junction.alerts.delivery import deliver
from junction.alerts.models import (
    Alert,
    AlertChannel,
    AlertDelivery,
    AlertKind,
    ChannelKind,
    DeliveryStatus,
)
from junction.events.processing import process_event
from junction.runtime import Runtime
from junction.settings import Settings
from tests.factories import EventFactory, TenantFactory
from tests.support.fixtures import TELEGRAM_BOT_TOKEN
from tests.support.log_capture import json_logs
from tests.support.receiver import UNKNOWN_CHAT


def _lines(output: str) -> list[dict[str, object]]:
    return [json.loads(line) for line in output.splitlines() if line.startswith("{")]


def test_json_lines_carry_extra_fields(
    capsys: pytest.CaptureFixture[str], settings: Settings
) -> None:
    with json_logs(settings):
        logging.getLogger("junction.test").info("hello %s", "there", extra={"endpoint_id": "e1"})
    [entry] = _lines(capsys.readouterr().err)
    assert entry["message"] == "hello there"
    assert entry["level"] == "info"
    assert entry["logger"] == "junction.test"
    assert entry["endpoint_id"] == "e1"
    assert "at" in entry


async def test_a_workers_lines_carry_the_tenant_event_and_attempt(
    capsys: pytest.CaptureFixture[str], settings: Settings, runtime: Runtime, session: AsyncSession
) -> None:
    event = EventFactory(payload={"echo_fail": 1})
    await session.commit()
    with json_logs(settings):
        await process_event(runtime, event.tenant_id, event.id)
        logging.getLogger("junction.test").info("after the attempt")
    lines = _lines(capsys.readouterr().err)
    [failure] = [line for line in lines if "failed" in str(line["message"])]
    assert failure["tenant_id"] == str(event.tenant_id)
    assert failure["event_id"] == str(event.id)
    assert failure["attempt"] == 1
    # Nothing stays bound once the attempt is over.
    [after] = [line for line in lines if line["message"] == "after the attempt"]
    assert "event_id" not in after


async def test_an_unhandled_error_is_logged_with_the_route_template(
    app: FastAPI, caplog: pytest.LogCaptureFixture
) -> None:
    @app.get("/api/broken/{secret_token}")
    async def broken(secret_token: str) -> None:
        raise RuntimeError("the database said no")

    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://junction.test") as client:
        with caplog.at_level(logging.ERROR, logger="junction.access"):
            answer = await client.get("/api/broken/tok-never-logged")
    assert answer.status_code == 500
    [record] = [r for r in caplog.records if r.name == "junction.access"]
    assert record.getMessage() == "unhandled error in GET /api/broken/{secret_token}"
    assert record.exc_info is not None
    assert "tok-never-logged" not in caplog.text


async def test_a_telegram_alert_leaves_its_bot_token_out_of_the_log(
    capsys: pytest.CaptureFixture[str], settings: Settings, runtime: Runtime, session: AsyncSession
) -> None:
    """The Bot API's URL holds the bot's token: no request URL is logged."""
    tenant = TenantFactory()
    channel = AlertChannel(
        id=uuid.uuid4(),
        tenant_id=tenant.id,
        kind=ChannelKind.telegram,
        name="Chat",
        target=UNKNOWN_CHAT,
    )
    session.add(channel)
    alert = Alert(id=uuid.uuid4(), tenant_id=tenant.id, kind=AlertKind.test, subject="s", text="t")
    session.add(alert)
    delivery = AlertDelivery(
        tenant_id=tenant.id, alert_id=alert.id, channel_id=channel.id, kind=channel.kind, target="c"
    )
    session.add(delivery)
    await session.commit()
    with json_logs(settings):
        async with httpx.AsyncClient() as http:
            assert await deliver(runtime, http, tenant.id, delivery.id) is DeliveryStatus.failed
    output = capsys.readouterr().err
    assert "Telegram refused the message" in output
    assert TELEGRAM_BOT_TOKEN not in output
