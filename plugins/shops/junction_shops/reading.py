"""Reading loosely typed platform fields: numbers as strings, ids as numbers, blanks."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from junction_shops.order import OrderFormatError


def text(value: Any) -> str:
    """A field as text: None and False (OpenCart's "no value") are empty."""
    if value is None or value is False:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).strip()


def required_text(payload: dict[str, Any], key: str, what: str) -> str:
    value = text(payload.get(key))
    if not value:
        raise OrderFormatError(f"the {what} is missing (field {key!r})")
    return value


def money(value: Any, field: str) -> Decimal:
    """An amount from a number or a string ("18.0000", "1 234,50")."""
    if isinstance(value, bool):
        raise OrderFormatError(f"field {field!r} is not an amount: {value!r}")
    if isinstance(value, (int, Decimal)):
        return Decimal(value)
    if isinstance(value, float):
        return Decimal(str(value))
    cleaned = text(value).replace("\u00a0", "").replace(" ", "")
    if "," in cleaned and "." not in cleaned:
        cleaned = cleaned.replace(",", ".")
    try:
        return Decimal(cleaned)
    except InvalidOperation:
        raise OrderFormatError(f"field {field!r} is not an amount: {text(value)[:40]!r}") from None


def optional_money(value: Any, field: str) -> Decimal | None:
    if value is None or text(value) == "":
        return None
    return money(value, field)


def timestamp(value: Any) -> datetime | None:
    """ISO 8601 or "YYYY-MM-DD HH:MM:SS"; a time without a zone is taken as UTC."""
    raw = text(value)
    if not raw:
        return None
    try:
        parsed = datetime.fromisoformat(raw.replace("Z", "+00:00"))
    except ValueError:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)
