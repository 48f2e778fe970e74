"""Reading a webhook body as JSON or as form data, with errors a sender can act on."""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import parse_qsl


class BodyError(ValueError):
    """The body cannot be read; the message says why."""


FORM_TYPE = "application/x-www-form-urlencoded"


def media_type(content_type: str) -> str:
    return content_type.split(";", 1)[0].strip().lower()


def _is_json_type(kind: str) -> bool:
    return kind == "application/json" or kind.endswith("+json") or kind == "text/json"


def parse_body(body: bytes, content_type: str) -> Any:
    payload = _parse(body, content_type)
    # PostgreSQL stores no NUL character in text or JSON: refuse it here, plainly, rather
    # than fail to store the delivery on every retry.
    if (b"\\u0000" in body or b"%00" in body or b"\x00" in body) and _has_nul(payload):
        raise BodyError("the body contains a NUL character (\\u0000), which cannot be stored")
    return payload


def _has_nul(value: Any) -> bool:
    if isinstance(value, str):
        return "\x00" in value
    if isinstance(value, dict):
        return any(_has_nul(key) or _has_nul(item) for key, item in value.items())
    if isinstance(value, list):
        return any(_has_nul(item) for item in value)
    return False


def _parse(body: bytes, content_type: str) -> Any:
    if not body.strip():
        raise BodyError("the body is empty; send the order as JSON or form data")
    kind = media_type(content_type)
    if _is_json_type(kind):
        return _parse_json(body)
    if kind == FORM_TYPE:
        return _parse_form(body)
    if kind in ("", "text/plain", "application/octet-stream"):
        # Some senders set no useful type: take JSON if it is JSON, else a form.
        try:
            return _parse_json(body)
        except BodyError:
            try:
                return _parse_form(body)
            except BodyError:
                raise BodyError("the body is neither valid JSON nor form data") from None
    raise BodyError(f"content type {kind!r} is not accepted; send application/json or {FORM_TYPE}")


def _decode(body: bytes) -> str:
    try:
        return body.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise BodyError(f"the body is not UTF-8 text (byte {exc.start})") from None


def _parse_json(body: bytes) -> Any:
    text = _decode(body)
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise BodyError(
            f"the body is not valid JSON: {exc.msg} at line {exc.lineno} column {exc.colno}"
        ) from None


def _parse_form(body: bytes) -> dict[str, Any]:
    text = _decode(body)
    try:
        pairs = parse_qsl(text, keep_blank_values=True, strict_parsing=True)
    except ValueError:
        raise BodyError(
            "the body is not valid form data (expected key=value pairs joined by &)"
        ) from None
    fields: dict[str, Any] = {}
    for key, value in pairs:
        if key in fields:
            previous = fields[key]
            fields[key] = [*previous, value] if isinstance(previous, list) else [previous, value]
        else:
            fields[key] = value
    return fields
