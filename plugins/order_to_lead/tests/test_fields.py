"""Order values in the format each type of amoCRM field takes."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import pytest

from junction_order_to_lead.fields import FieldValueError, field_values

SELECT = {
    "type": "select",
    "enums": [{"id": 11, "value": "Courier"}, {"id": 12, "value": "Pickup"}],
}
MULTI = {
    "type": "multiselect",
    "enums": [{"id": 21, "value": "Gift wrap"}, {"id": 22, "value": "Insurance"}],
}
PHONE = {"type": "multitext", "enums": [{"id": 31, "value": "WORK"}, {"id": 32, "value": "MOB"}]}


@pytest.mark.parametrize(
    ("field", "value", "expected"),
    [
        ({"type": "text"}, " 969 Market ", [{"value": "969 Market"}]),
        ({"type": "textarea"}, "line\nline", [{"value": "line\nline"}]),
        ({"type": "url"}, "https://shop.example/o/1", [{"value": "https://shop.example/o/1"}]),
        ({"type": "numeric"}, Decimal("18.0000"), [{"value": "18"}]),
        ({"type": "numeric"}, "1 234,50", [{"value": "1234.50"}]),
        ({"type": "price"}, 29.35, [{"value": "29.35"}]),
        ({"type": "checkbox"}, "yes", [{"value": True}]),
        ({"type": "checkbox"}, "0", [{"value": False}]),
        ({"type": "checkbox"}, True, [{"value": True}]),
        (SELECT, "pickup", [{"enum_id": 12}]),
        (MULTI, "Gift wrap, Insurance", [{"enum_id": 21}, {"enum_id": 22}]),
        (MULTI, ["Insurance"], [{"enum_id": 22}]),
        ({"type": "date"}, "2016-09-26 07:00:14", [{"value": "2016-09-26T00:00:00+00:00"}]),
        (
            {"type": "date_time"},
            datetime(2022, 1, 1, 0, 0, tzinfo=UTC),
            [{"value": "2022-01-01T00:00:00+00:00"}],
        ),
        (PHONE, "+7 900 000-00-00", [{"value": "+7 900 000-00-00", "enum_code": "WORK"}]),
        ({"type": "text"}, "  ", None),
        ({"type": "numeric"}, None, None),
    ],
)
def test_each_field_type_gets_its_value_format(
    field: dict[str, Any], value: Any, expected: list[dict[str, Any]] | None
) -> None:
    assert field_values(field, value) == expected


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ({"type": "numeric"}, "about ten", "'about ten' is not a number"),
        ({"type": "checkbox"}, "maybe", "'maybe' is neither yes nor no"),
        (SELECT, "Teleport", "'Teleport' is not one of its options (Courier, Pickup)"),
        ({"type": "date"}, "yesterday", "'yesterday' is not a date"),
        ({"type": "smart_address"}, "x", "fields of type 'smart_address' cannot be written"),
    ],
)
def test_a_value_a_field_cannot_take_says_why(
    field: dict[str, Any], value: Any, message: str
) -> None:
    with pytest.raises(FieldValueError, match=re.escape(message)):
        field_values(field, value)
