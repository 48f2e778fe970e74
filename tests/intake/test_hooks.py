"""POST /hooks/{token}: durable intake with clear errors."""

from __future__ import annotations

import hashlib
import hmac
import json
import uuid

import httpx
import pytest
from asgi_lifespan import LifespanManager
from fastapi import FastAPI
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from junction.app import create_app
from junction.db.tenancy import scope_to_tenant
from junction.events.models import Event, EventStatus
from junction.plugins.registry import PluginRegistry
from junction.runtime import connect_redis
from junction.settings import Settings
from junction.tenancy.models import TenantStatus
from tests.factories import InboundEndpointFactory, TenantFactory
from tests.support.log_capture import json_logs


async def _endpoint(session: AsyncSession, **kwargs: object):  # type: ignore[no-untyped-def]
    endpoint = InboundEndpointFactory(**kwargs)
    await session.flush()
    await session.commit()
    return endpoint


async def _events(session: AsyncSession, tenant_id: uuid.UUID) -> list[Event]:
    scope_to_tenant(session, tenant_id)
    return list((await session.scalars(select(Event))).all())


@pytest.mark.slice
async def test_accepts_json_and_stores_the_event_before_answering(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    endpoint = await _endpoint(session, token="tok-json-" + "x" * 40)
    response = await client.post(
        "/hooks/tok-json-" + "x" * 40,
        json={"order_id": "A-1", "total": 10},
        headers={"Authorization": "Bearer do-not-store", "X-Shop": "demo"},
    )
    assert response.status_code == 202, response.text
    event_id = uuid.UUID(response.json()["event_id"])
    [event] = await _events(session, endpoint.tenant_id)
    assert event.id == event_id
    assert event.payload == {"order_id": "A-1", "total": 10}
    assert event.status is EventStatus.received
    assert event.headers["x-shop"] == "demo"
    assert "authorization" not in event.headers


async def test_accepts_form_data(client: httpx.AsyncClient, session: AsyncSession) -> None:
    endpoint = await _endpoint(session, token="tok-form")
    response = await client.post(
        "/hooks/tok-form",
        content=b"order_id=7&products=a&products=b&note=",
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )
    assert response.status_code == 202, response.text
    [event] = await _events(session, endpoint.tenant_id)
    assert event.payload == {"order_id": "7", "products": ["a", "b"], "note": ""}


async def test_a_repeated_delivery_names_the_first_event_and_creates_nothing(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    endpoint = await _endpoint(session, token="tok-dup")
    headers = {"Idempotency-Key": "order-55"}
    first = await client.post("/hooks/tok-dup", json={"order_id": "55"}, headers=headers)
    again = await client.post("/hooks/tok-dup", json={"order_id": "55", "x": 1}, headers=headers)
    assert first.status_code == 202
    assert again.status_code == 200
    assert again.json() == {"event_id": first.json()["event_id"], "duplicate": True}
    assert len(await _events(session, endpoint.tenant_id)) == 1


async def test_without_a_source_key_an_identical_body_is_a_repeat(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    endpoint = await _endpoint(session, token="tok-body")
    first = await client.post("/hooks/tok-body", json={"a": 1})
    again = await client.post("/hooks/tok-body", json={"a": 1})
    other = await client.post("/hooks/tok-body", json={"a": 2})
    assert (first.status_code, again.status_code, other.status_code) == (202, 200, 202)
    assert len(await _events(session, endpoint.tenant_id)) == 2


async def test_unknown_token_is_404_without_a_hint(client: httpx.AsyncClient) -> None:
    response = await client.post("/hooks/no-such-token", json={})
    assert response.status_code == 404
    assert response.json() == {
        "error": {"code": "not_found", "message": "no endpoint has this URL"}
    }


async def test_deleted_tenant_is_410(client: httpx.AsyncClient, session: AsyncSession) -> None:
    tenant = TenantFactory(status=TenantStatus.deleted)
    await _endpoint(session, token="tok-gone", installation__tenant=tenant)
    response = await client.post("/hooks/tok-gone", json={})
    assert response.status_code == 410


async def test_body_over_one_mebibyte_is_413(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    endpoint = await _endpoint(session, token="tok-big")
    big = json.dumps({"blob": "x" * (1024 * 1024)}).encode()
    response = await client.post(
        "/hooks/tok-big", content=big, headers={"Content-Type": "application/json"}
    )
    assert response.status_code == 413
    assert response.json()["error"]["code"] == "payload_too_large"
    assert await _events(session, endpoint.tenant_id) == []


async def test_body_over_the_limit_without_content_length_is_413(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    await _endpoint(session, token="tok-chunked")

    async def chunks():  # type: ignore[no-untyped-def]
        for _ in range(300):
            yield b"x" * 4096

    response = await client.post(
        "/hooks/tok-chunked", content=chunks(), headers={"Content-Type": "application/json"}
    )
    assert response.status_code == 413


@pytest.mark.parametrize(
    ("body", "content_type", "message"),
    [
        (
            b'{"order": ',
            "application/json",
            "the body is not valid JSON: Expecting value at line 1 column 11",
        ),
        (b"", "application/json", "the body is empty; send the order as JSON or form data"),
        (b"\xff\xfe", "application/json", "the body is not UTF-8 text (byte 0)"),
        (
            b"<order/>",
            "application/xml",
            "content type 'application/xml' is not accepted; "
            "send application/json or application/x-www-form-urlencoded",
        ),
        (b"just words", "text/plain", "the body is neither valid JSON nor form data"),
        (
            b'{"comment": "a\\u0000b"}',
            "application/json",
            "the body contains a NUL character (\\u0000), which cannot be stored",
        ),
        (
            b"comment=a%00b",
            "application/x-www-form-urlencoded",
            "the body contains a NUL character (\\u0000), which cannot be stored",
        ),
    ],
)
async def test_unreadable_bodies_are_400_with_what_is_wrong(
    client: httpx.AsyncClient, session: AsyncSession, body: bytes, content_type: str, message: str
) -> None:
    await _endpoint(session, token="tok-unreadable")
    response = await client.post(
        "/hooks/tok-unreadable", content=body, headers={"Content-Type": content_type}
    )
    assert response.status_code == 400
    assert response.json() == {"error": {"code": "invalid_body", "message": message}}


async def test_signed_endpoint_refuses_a_bad_signature(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    endpoint = await _endpoint(session, token="tok-signed", signing_secret="s3cret")
    body = b'{"order_id": "9"}'
    good = hmac.new(b"s3cret", body, hashlib.sha256).hexdigest()
    headers = {"Content-Type": "application/json"}
    bad = await client.post(
        "/hooks/tok-signed", content=body, headers={**headers, "X-Echo-Signature": "00"}
    )
    assert bad.status_code == 401
    assert bad.json()["error"]["code"] == "bad_signature"
    assert "s3cret" not in bad.text
    ok = await client.post(
        "/hooks/tok-signed", content=body, headers={**headers, "X-Echo-Signature": good}
    )
    assert ok.status_code == 202
    assert len(await _events(session, endpoint.tenant_id)) == 1


async def test_intake_survives_redis_being_down(
    client: httpx.AsyncClient, session: AsyncSession, app: FastAPI
) -> None:
    endpoint = await _endpoint(session, token="tok-noredis")
    runtime = app.state.runtime
    await runtime.queue.redis.aclose()
    runtime.queue.redis = connect_redis("redis://127.0.0.1:1/0")  # nothing listens on port 1
    response = await client.post("/hooks/tok-noredis", json={"order_id": "r1"})
    assert response.status_code == 202
    scope_to_tenant(session, endpoint.tenant_id)
    assert await session.scalar(select(func.count()).select_from(Event)) == 1


async def test_the_token_never_reaches_the_logs_and_lines_carry_the_ids(
    client: httpx.AsyncClient,
    session: AsyncSession,
    capsys: pytest.CaptureFixture[str],
    settings: Settings,
) -> None:
    token = "secret-token-that-must-not-be-logged"
    endpoint = await _endpoint(session, token=token)
    with json_logs(settings):
        accepted = await client.post(f"/hooks/{token}", json={"order_id": "L1"})
        await client.post(f"/hooks/{token}x", json={"order_id": "L2"})
    lines = [
        json.loads(line) for line in capsys.readouterr().err.splitlines() if line.startswith("{")
    ]
    # Everything the server side logged (the test's own HTTP client logs its URLs).
    server = [line for line in lines if line["logger"] != "httpx"]
    assert token not in json.dumps(server)
    access = [line for line in lines if line["logger"] == "junction.access"]
    assert [line["message"].split(" ")[:3] for line in access] == [
        ["POST", "/hooks/{token}", "202"],
        ["POST", "/hooks/{token}", "404"],
    ]
    assert access[0]["tenant_id"] == str(endpoint.tenant_id)
    assert access[0]["endpoint_id"] == str(endpoint.id)
    assert access[0]["event_id"] == accepted.json()["event_id"]
    # The next request starts with nothing bound.
    assert "tenant_id" not in access[1]


async def test_intake_answers_503_when_the_database_is_down(
    settings: Settings, registry: PluginRegistry
) -> None:
    # Nothing listens on port 1: the database is unreachable.
    down = settings.model_copy(update={"database_url": "postgresql+asyncpg://j@127.0.0.1:1/j"})
    app = create_app(down, registry=registry)
    async with LifespanManager(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
            response = await client.post("/hooks/any-token", json={"order_id": "1"})
    assert response.status_code == 503
    assert response.headers["retry-after"] == "30"
    assert response.json() == {
        "error": {"code": "unavailable", "message": "the delivery could not be stored; retry later"}
    }


async def test_intake_answers_503_when_no_database_connection_is_free(
    settings: Settings, registry: PluginRegistry, database_url: str, session: AsyncSession
) -> None:
    from sqlalchemy.ext.asyncio import async_sessionmaker

    from junction.db.session import create_engine

    # A real pool of one connection, held by another transaction, and a short wait.
    engine = create_engine(database_url, pool_size=1, max_overflow=0, pool_timeout=0.5)
    app = create_app(settings, registry=registry, sessionmaker=async_sessionmaker(engine))
    try:
        async with engine.connect() as held, LifespanManager(app):
            await held.begin()
            transport = httpx.ASGITransport(app=app)
            async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
                response = await client.post("/hooks/any-token", json={"order_id": "1"})
    finally:
        await engine.dispose()
    assert response.status_code == 503
    assert response.json()["error"]["code"] == "unavailable"


async def test_only_a_post_to_one_token_is_a_delivery(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    endpoint = await _endpoint(session, token="tok-methods")
    assert (await client.get("/hooks/tok-methods")).status_code == 405
    nested = await client.post("/hooks/tok-methods/extra", json={"order_id": "1"})
    assert nested.status_code == 404
    assert nested.json()["error"]["code"] == "not_found"
    assert await _events(session, endpoint.tenant_id) == []
