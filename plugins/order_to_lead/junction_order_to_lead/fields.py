"""Order values written in the format each type of amoCRM field takes."""

from __future__ import annotations

from datetime import UTC, date, datetime, time
from decimal import Decimal, InvalidOperation
from typing import Any

TEXT_TYPES = frozenset({"text", "textarea", "url", "streetaddress"})
NUMBER_TYPES = frozenset({"numeric", "price", "monetary"})
CHOICE_TYPES = frozenset({"select", "radiobutton", "category"})
DATE_TYPES = frozenset({"date", "date_time", "birthday"})
TRUE_WORDS = frozenset({"1", "true", "yes", "y", "on", "да"})
FALSE_WORDS = frozenset({"0", "false", "no", "n", "off", "нет", ""})


class FieldValueError(ValueError):
    """A value that the target field cannot take; the message says why."""


def _text(value: Any) -> str:
    if isinstance(value, Decimal):
        return format(value.normalize(), "f") if value == value.to_integral() else str(value)
    return str(value).strip()


def _number(value: Any) -> str:
    try:
        number = Decimal(_text(value).replace(" ", "").replace(",", "."))
    except InvalidOperation:
        raise FieldValueError(f"{_text(value)[:40]!r} is not a number") from None
    return _text(number)


def _boolean(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    word = _text(value).lower()
    if word in TRUE_WORDS:
        return True
    if word in FALSE_WORDS:
        return False
    raise FieldValueError(f"{_text(value)[:40]!r} is neither yes nor no")


def _moment(value: Any, with_time: bool) -> str:
    if isinstance(value, datetime):
        moment = value if value.tzinfo else value.replace(tzinfo=UTC)
    elif isinstance(value, date):
        moment = datetime.combine(value, time(), UTC)
    else:
        raw = _text(value)
        try:
            moment = datetime.fromisoformat(raw.replace("Z", "+00:00"))
        except ValueError:
            raise FieldValueError(f"{raw[:40]!r} is not a date") from None
        moment = moment if moment.tzinfo else moment.replace(tzinfo=UTC)
    if not with_time:
        moment = datetime.combine(moment.date(), time(), moment.tzinfo)
    return moment.isoformat()


def _choice(field: dict[str, Any], value: Any) -> dict[str, Any]:
    wanted = _text(value).casefold()
    for option in field.get("enums") or []:
        if str(option.get("value", "")).casefold() == wanted:
            return {"enum_id": option["id"]}
    options = ", ".join(str(option.get("value")) for option in field.get("enums") or [])
    raise FieldValueError(f"{_text(value)[:40]!r} is not one of its options ({options})")


def field_values(field: dict[str, Any], value: Any) -> list[dict[str, Any]] | None:
    """The `values` to send for `value`, or None when there is nothing to write."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    kind = field.get("type", "text")
    if kind in TEXT_TYPES:
        return [{"value": _text(value)}]
    if kind in NUMBER_TYPES:
        return [{"value": _number(value)}]
    if kind == "checkbox":
        return [{"value": _boolean(value)}]
    if kind in CHOICE_TYPES:
        return [_choice(field, value)]
    if kind == "multiselect":
        chosen = value if isinstance(value, (list, tuple)) else _text(value).split(",")
        return [_choice(field, item) for item in chosen if _text(item)]
    if kind in DATE_TYPES:
        return [{"value": _moment(value, with_time=kind == "date_time")}]
    if kind == "multitext":
        enums = [option.get("value") for option in field.get("enums") or []]
        code = "WORK" if "WORK" in enums else (enums[0] if enums else None)
        item: dict[str, Any] = {"value": _text(value)}
        if code:
            item["enum_code"] = code
        return [item]
    raise FieldValueError(f"fields of type {kind!r} cannot be written from an order")


# The kinds of the canonical order's fields: what each may be written into.
_NUMBERS = ("subtotal", "shipping_total", "discount_total", "tax_total", "total")
_PEOPLE = (
    "first_name",
    "last_name",
    "company",
    "address_1",
    "address_2",
    "city",
    "state",
    "postcode",
    "country",
    "email",
    "phone",
)
ORDER_FIELDS: dict[str, str] = {
    "id": "text",
    "number": "text",
    "created_at": "date",
    "status": "text",
    "partner_id": "text",
    "currency": "text",
    "payment_method": "text",
    "shipping_method": "text",
    "comment": "text",
    **{name: "number" for name in _NUMBERS},
    **{f"customer.{name}": "text" for name in ("id", "first_name", "last_name", "email", "phone")},
    **{f"billing.{name}": "text" for name in _PEOPLE},
    **{f"shipping.{name}": "text" for name in _PEOPLE},
}
# The amoCRM field types each kind of order value can be written into.
FITS: dict[str, frozenset[str]] = {
    "text": TEXT_TYPES | CHOICE_TYPES,
    "number": TEXT_TYPES | NUMBER_TYPES,
    "date": TEXT_TYPES | DATE_TYPES,
}


def kind_of(order_field: str) -> str | None:
    """The kind of a canonical order field; None for the delivery's own (`raw.…`),
    whose values are only known per order."""
    return ORDER_FIELDS.get(order_field)


def fits(order_field: str, amo_type: str) -> bool:
    kind = kind_of(order_field)
    return kind is None or amo_type in FITS[kind]
