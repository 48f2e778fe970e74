"""Keeping tokens and personal secrets out of call logs."""

from __future__ import annotations

import json
from typing import Any

SECRET_KEYS = frozenset(
    {
        "access_token",
        "refresh_token",
        "client_secret",
        "code",
        "password",
        "authorization",
        "token",
        "secret",
        "x-refresh-token",
    }
)
MAX_LOGGED_CHARS = 2000
REDACTED = "[redacted]"


def redact(value: Any) -> Any:
    if isinstance(value, dict):
        return {
            key: REDACTED if str(key).lower() in SECRET_KEYS else redact(item)
            for key, item in value.items()
        }
    if isinstance(value, list):
        return [redact(item) for item in value]
    return value


def for_log(value: Any) -> Any:
    """A redacted copy, cut to a readable size."""
    if value is None:
        return None
    cleaned = redact(value)
    text = json.dumps(cleaned, ensure_ascii=False, default=str)
    if len(text) <= MAX_LOGGED_CHARS:
        return cleaned
    return text[:MAX_LOGGED_CHARS] + "…"
