"""The echo plugin: its source and its integration."""

from __future__ import annotations

import hashlib
import hmac
import uuid

import pytest

from junction.plugins.interfaces import AttemptLog, Delivery, EventContext, PermanentError
from junction_echo.plugin import EchoConfig, EchoIntegration, EchoSource


def _delivery(body: bytes, **headers: str) -> Delivery:
    return Delivery(body=body, content_type="application/json", headers=headers, payload={})


def _context(payload: object, attempt: int = 1) -> EventContext:
    return EventContext(
        tenant_id=uuid.uuid4(),
        event_id=uuid.uuid4(),
        attempt=attempt,
        payload=payload,
        headers={},
        config=EchoConfig(label="L"),
        log=AttemptLog(),
    )


def test_signature_is_the_hex_hmac_of_the_body() -> None:
    body = b'{"order_id": 1}'
    signature = hmac.new(b"secret", body, hashlib.sha256).hexdigest()
    source = EchoSource()
    assert source.verify(_delivery(body, **{"x-echo-signature": signature}), "secret")
    assert source.verify(_delivery(body, **{"x-echo-signature": signature.upper()}), "secret")
    assert not source.verify(_delivery(body, **{"x-echo-signature": signature}), "other")
    assert not source.verify(_delivery(body), "secret")


def test_idempotency_key_comes_from_the_header() -> None:
    source = EchoSource()
    assert source.idempotency_key(_delivery(b"{}", **{"idempotency-key": "o-1"})) == "o-1"
    assert source.idempotency_key(_delivery(b"{}")) is None


async def test_records_the_payload_it_received() -> None:
    context = _context({"order_id": "9", "items": [1]})
    result = await EchoIntegration().process_event(context)
    assert result == {"echo": {"order_id": "9", "items": [1]}, "label": "L", "attempt": 1}
    assert context.log.entries[0]["data"] == {"keys": ["items", "order_id"]}


async def test_can_be_asked_to_fail() -> None:
    with pytest.raises(PermanentError):
        await EchoIntegration().process_event(_context({"echo_fail": "permanent"}))
    with pytest.raises(RuntimeError):
        await EchoIntegration().process_event(_context({"echo_fail": 2}, attempt=2))
    assert await EchoIntegration().process_event(_context({"echo_fail": 2}, attempt=3)) is not None


def test_config_refuses_unknown_fields() -> None:
    with pytest.raises(ValueError, match="Extra inputs"):
        EchoConfig.model_validate({"lable": "typo"})
