"""Tilda order forms: the form's fields plus `payment` (JSON text in a form, or an object).

Tilda signs nothing. It can send an API key with every delivery: name it
`X-Junction-Key` (a header) or `junction_key` (a field) in Tilda's webhook settings and
make its value the endpoint's signing secret. Connecting the webhook sends `test=test`.
"""

from __future__ import annotations

import hmac
import json
import re
from collections.abc import Mapping
from decimal import Decimal
from typing import Any, ClassVar

from junction.plugins.interfaces import Delivery, Translations
from junction_shops.formats.base import ShopFormat, as_object
from junction_shops.order import Customer, Item, Order, OrderFormatError
from junction_shops.reading import money, optional_money, text

KEY_HEADER = "x-junction-key"
KEY_FIELD = "junction_key"
# "Name - 2x500 = 1000": how Tilda writes products when it sends them as text.
_PRODUCT_LINE = re.compile(
    r"^(?P<name>.+?) - (?P<qty>[\d.,]+)x(?P<price>[\d.,]+) = (?P<total>[\d.,]+)"
)


def _field(data: dict[str, Any], *names: str) -> str:
    lowered = {key.lower(): value for key, value in data.items()}
    for name in names:
        value = text(lowered.get(name))
        if value:
            return value
    return ""


def _payment(data: dict[str, Any]) -> dict[str, Any]:
    payment = data.get("payment")
    if isinstance(payment, str):
        try:
            payment = json.loads(payment)
        except json.JSONDecodeError:
            raise OrderFormatError("field 'payment' is not valid JSON") from None
    if payment is None:
        raise OrderFormatError("the order is missing (field 'payment'); is the form a cart?")
    if not isinstance(payment, dict):
        raise OrderFormatError("field 'payment' is not an object")
    return payment


def _item(index: int, product: Any) -> Item:
    where = f"payment.products[{index}]"
    if isinstance(product, str):
        match = _PRODUCT_LINE.match(product)
        if match is None:
            return Item(name=product, quantity=Decimal(1), price=Decimal(0), total=Decimal(0))
        return Item(
            name=match["name"],
            quantity=money(match["qty"], f"{where}.quantity"),
            price=money(match["price"], f"{where}.price"),
            total=money(match["total"], f"{where}.amount"),
        )
    if not isinstance(product, dict):
        raise OrderFormatError(f"{where} is neither text nor an object")
    name = text(product.get("name"))
    if not name:
        raise OrderFormatError(f"the name of {where} is missing")
    quantity = money(product.get("quantity", 1), f"{where}.quantity")
    price = optional_money(product.get("price"), f"{where}.price")
    total = optional_money(product.get("amount"), f"{where}.amount")
    return Item.priced(
        sku=text(product.get("sku")) or text(product.get("externalid")),
        name=name,
        quantity=quantity,
        price=price,
        total=total,
    )


class Tilda(ShopFormat):
    """Verified by the API key Tilda sends (`X-Junction-Key` or `junction_key`)."""

    name = "tilda"
    title = "Tilda (order forms)"
    i18n: ClassVar[Translations] = {"ru": {"title": "Tilda (формы заказа)"}}
    secret_headers = frozenset({KEY_HEADER})
    secret_fields = frozenset({KEY_FIELD})

    def verify(self, delivery: Delivery, signing_secret: str) -> bool:
        given = delivery.headers.get(KEY_HEADER, "")
        if not given and isinstance(delivery.payload, dict):
            given = text(delivery.payload.get(KEY_FIELD))
        return bool(given) and hmac.compare_digest(given.encode(), signing_secret.encode())

    def acknowledge(self, delivery: Delivery) -> str | None:
        if delivery.payload == {"test": "test"}:
            return "Tilda's check on connecting the webhook"
        return None

    def idempotency_key(self, delivery: Delivery) -> str | None:
        payload = delivery.payload
        if not isinstance(payload, dict):
            return None
        try:
            order_id = text(_payment(payload).get("orderid"))
        except OrderFormatError:
            order_id = ""
        order_id = order_id or text(payload.get("tranid"))
        return f"order:{order_id}" if order_id else None

    def read_order(
        self, payload: Any, headers: Mapping[str, str], paths: Mapping[str, str] | None = None
    ) -> Order:
        data = as_object(payload, "Tilda")
        payment = _payment(data)
        order_id = text(payment.get("orderid")) or text(data.get("tranid"))
        if not order_id:
            raise OrderFormatError("the order id is missing (payment.orderid or tranid)")
        items = tuple(
            _item(index, product) for index, product in enumerate(payment.get("products") or [])
        )
        name = _field(data, "name", "fio")
        first, _, last = name.partition(" ")
        partner = _field(data, "partner_id", "customer_id") or None
        return Order(
            id=order_id,
            number=order_id,
            customer=Customer(
                id=partner,
                first_name=first,
                last_name=last,
                email=_field(data, "email"),
                phone=_field(data, "phone"),
            ),
            partner_id=partner,
            items=items,
            total=money(payment.get("amount"), "payment.amount"),
            currency=text(payment.get("currency")),
            payment_method=text(payment.get("sys")),
            comment=_field(data, "comment", "comments"),
            raw={key: value for key, value in data.items() if key != KEY_FIELD},
        )
