"""WooCommerce `order.created` webhooks (the v3 REST order JSON)."""

from __future__ import annotations

import html
from collections.abc import Mapping
from typing import Any

from junction.plugins.interfaces import Delivery
from junction_shops.formats.base import ShopFormat, as_object
from junction_shops.order import Address, Customer, Item, Order, OrderFormatError
from junction_shops.reading import (
    money,
    optional_money,
    required_text,
    text,
    timestamp,
)


def _address(data: Any) -> Address:
    if not isinstance(data, dict):
        return Address()
    return Address(
        first_name=text(data.get("first_name")),
        last_name=text(data.get("last_name")),
        company=text(data.get("company")),
        address_1=text(data.get("address_1")),
        address_2=text(data.get("address_2")),
        city=text(data.get("city")),
        state=text(data.get("state")),
        postcode=text(data.get("postcode")),
        country=text(data.get("country")),
        email=text(data.get("email")),
        phone=text(data.get("phone")),
    )


class WooCommerce(ShopFormat):
    """Signature: `X-WC-Webhook-Signature`, base64 HMAC-SHA256 of the body."""

    name = "woocommerce"
    title = "WooCommerce (order.created)"
    signature_header = "x-wc-webhook-signature"
    signature_encoding = "base64"

    def acknowledge(self, delivery: Delivery) -> str | None:
        payload = delivery.payload
        if isinstance(payload, dict) and set(payload) == {"webhook_id"}:
            return "WooCommerce's ping on creating the webhook"
        return None

    def idempotency_key(self, delivery: Delivery) -> str | None:
        payload = delivery.payload
        order_id = text(payload.get("id")) if isinstance(payload, dict) else ""
        return f"order:{order_id}" if order_id else None

    def read_order(
        self, payload: Any, headers: Mapping[str, str], paths: Mapping[str, str] | None = None
    ) -> Order:
        data = as_object(payload, "WooCommerce")
        order_id = required_text(data, "id", "order id")
        billing = _address(data.get("billing"))
        items = []
        for index, line in enumerate(data.get("line_items") or []):
            if not isinstance(line, dict):
                raise OrderFormatError(f"line_items[{index}] is not an object")
            quantity = money(line.get("quantity"), f"line_items[{index}].quantity")
            total = money(line.get("total"), f"line_items[{index}].total")
            price = optional_money(line.get("price"), f"line_items[{index}].price")
            items.append(
                Item.priced(
                    sku=text(line.get("sku")),
                    # WooCommerce sends names HTML-escaped ("Idea &ndash; Black").
                    name=html.unescape(required_text(line, "name", f"name of line_items[{index}]")),
                    quantity=quantity,
                    price=price,
                    total=total,
                )
            )
        customer_id = text(data.get("customer_id"))
        partner = customer_id if customer_id not in ("", "0") else None
        shipping_lines = data.get("shipping_lines") or []
        first_shipping = (
            shipping_lines[0] if shipping_lines and isinstance(shipping_lines[0], dict) else {}
        )
        return Order(
            id=order_id,
            number=text(data.get("number")) or order_id,
            created_at=timestamp(data.get("date_created_gmt"))
            or timestamp(data.get("date_created")),
            status=text(data.get("status")),
            customer=Customer(
                id=partner,
                first_name=billing.first_name,
                last_name=billing.last_name,
                email=billing.email,
                phone=billing.phone,
            ),
            partner_id=partner,
            billing=billing,
            shipping=_address(data.get("shipping")),
            items=tuple(items),
            shipping_total=optional_money(data.get("shipping_total"), "shipping_total"),
            discount_total=optional_money(data.get("discount_total"), "discount_total"),
            tax_total=optional_money(data.get("total_tax"), "total_tax"),
            total=money(data.get("total"), "total"),
            currency=text(data.get("currency")),
            payment_method=text(data.get("payment_method_title")),
            shipping_method=text(first_shipping.get("method_title")),
            comment=text(data.get("customer_note")),
            raw=data,
        )
