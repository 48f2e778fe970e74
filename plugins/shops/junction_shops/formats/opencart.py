"""OpenCart orders: the fields of its `getOrder()` plus `products`, as JSON or a form.

OpenCart sends no webhooks of its own; a store module posts the order. Every value may
be a string ("18.0000"), and "no value" may be `false`.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar

from junction.plugins.interfaces import Delivery, Translations
from junction_shops.formats.base import ShopFormat, as_object, unflatten_form
from junction_shops.order import Address, Customer, Item, Order, OrderFormatError
from junction_shops.reading import money, optional_money, required_text, text, timestamp


def _address(data: dict[str, Any], prefix: str) -> Address:
    def field(name: str) -> str:
        return text(data.get(f"{prefix}_{name}"))

    return Address(
        first_name=field("firstname"),
        last_name=field("lastname"),
        company=field("company"),
        address_1=field("address_1"),
        address_2=field("address_2"),
        city=field("city"),
        state=field("zone"),
        postcode=field("postcode"),
        country=field("iso_code_2") or field("country"),
        email=text(data.get("email")),
        phone=text(data.get("telephone")),
    )


def _object(payload: Any) -> dict[str, Any]:
    data = as_object(payload, "OpenCart")
    # A form arrives flat: products[0][name]=…
    if any("[" in key for key in data):
        data = unflatten_form(data)
    return data


class OpenCart(ShopFormat):
    """Signature (optional): `X-Junction-Signature`, hex HMAC-SHA256 of the body."""

    name = "opencart"
    title = "OpenCart (getOrder fields and products)"
    i18n: ClassVar[Translations] = {"ru": {"title": "OpenCart (поля и товары getOrder)"}}

    def idempotency_key(self, delivery: Delivery) -> str | None:
        payload = delivery.payload
        order_id = text(payload.get("order_id")) if isinstance(payload, dict) else ""
        return f"order:{order_id}" if order_id else None

    def read_order(
        self, payload: Any, headers: Mapping[str, str], paths: Mapping[str, str] | None = None
    ) -> Order:
        data = _object(payload)
        order_id = required_text(data, "order_id", "order id")
        products = data.get("products") or []
        if not isinstance(products, list):
            raise OrderFormatError("field 'products' is not a list of the order's products")
        items = []
        for index, product in enumerate(products):
            if not isinstance(product, dict):
                raise OrderFormatError(f"products[{index}] is not an object")
            quantity = money(product.get("quantity"), f"products[{index}].quantity")
            price = money(product.get("price"), f"products[{index}].price")
            total = optional_money(product.get("total"), f"products[{index}].total")
            items.append(
                Item.priced(
                    sku=text(product.get("sku")) or text(product.get("model")),
                    name=required_text(product, "name", f"name of products[{index}]"),
                    quantity=quantity,
                    price=price,
                    total=total,
                )
            )
        customer_id = text(data.get("customer_id"))
        partner = customer_id if customer_id not in ("", "0") else None
        return Order(
            id=order_id,
            number=f"{text(data.get('invoice_prefix'))}{text(data.get('invoice_no'))}"
            if text(data.get("invoice_no")) not in ("", "0")
            else order_id,
            created_at=timestamp(data.get("date_added")),
            status=text(data.get("order_status")),
            customer=Customer(
                id=partner,
                first_name=text(data.get("firstname")),
                last_name=text(data.get("lastname")),
                email=text(data.get("email")),
                phone=text(data.get("telephone")),
            ),
            partner_id=partner,
            billing=_address(data, "payment"),
            shipping=_address(data, "shipping"),
            items=tuple(items),
            total=money(data.get("total"), "total"),
            currency=text(data.get("currency_code")),
            payment_method=text(data.get("payment_method")),
            shipping_method=text(data.get("shipping_method")),
            comment=text(data.get("comment")),
            raw=data,
        )
