"""Shopify `orders/create` webhooks."""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from junction.plugins.interfaces import Delivery
from junction_shops.formats.base import ShopFormat, as_object
from junction_shops.order import Address, Customer, Item, Order, OrderFormatError, dig
from junction_shops.reading import (
    money,
    optional_money,
    required_text,
    text,
    timestamp,
)

GID = "gid://shopify/{kind}/"


def _address(data: Any, email: str = "") -> Address:
    if not isinstance(data, dict):
        return Address()
    return Address(
        first_name=text(data.get("first_name")),
        last_name=text(data.get("last_name")),
        company=text(data.get("company")),
        address_1=text(data.get("address1")),
        address_2=text(data.get("address2")),
        city=text(data.get("city")),
        state=text(data.get("province")),
        postcode=text(data.get("zip")),
        country=text(data.get("country_code") or data.get("country")),
        email=email,
        phone=text(data.get("phone")),
    )


def exact_id(data: dict[str, Any], kind: str) -> str:
    """An object's 64-bit id. `admin_graphql_api_id` carries it as text: a sender that
    went through floating point (JavaScript) can round the number, never the text."""
    prefix = GID.format(kind=kind)
    gid = text(data.get("admin_graphql_api_id"))
    if gid.startswith(prefix) and gid.removeprefix(prefix).isdigit():
        return gid.removeprefix(prefix)
    return text(data.get("id"))


def order_id(data: dict[str, Any]) -> str:
    found = exact_id(data, "Order")
    if not found:
        raise OrderFormatError("the order id is missing (field 'id')")
    return found


class Shopify(ShopFormat):
    """Signature: `X-Shopify-Hmac-Sha256`, base64 HMAC-SHA256 of the body."""

    name = "shopify"
    title = "Shopify (orders/create)"
    signature_header = "x-shopify-hmac-sha256"
    signature_encoding = "base64"

    def idempotency_key(self, delivery: Delivery) -> str | None:
        payload = delivery.payload
        if not isinstance(payload, dict):
            return None
        try:
            return f"order:{order_id(payload)}"
        except OrderFormatError:
            return None

    def read_order(
        self, payload: Any, headers: Mapping[str, str], paths: Mapping[str, str] | None = None
    ) -> Order:
        data = as_object(payload, "Shopify")
        identifier = order_id(data)
        found = data.get("customer")
        buyer: dict[str, Any] = found if isinstance(found, dict) else {}
        email = text(data.get("email") or data.get("contact_email") or buyer.get("email"))
        items = []
        for index, line in enumerate(data.get("line_items") or []):
            if not isinstance(line, dict):
                raise OrderFormatError(f"line_items[{index}] is not an object")
            quantity = money(line.get("quantity"), f"line_items[{index}].quantity")
            price = money(line.get("price"), f"line_items[{index}].price")
            discount = optional_money(
                line.get("total_discount"), f"line_items[{index}].total_discount"
            )
            items.append(
                Item(
                    sku=text(line.get("sku")),
                    name=text(line.get("name"))
                    or required_text(line, "title", f"title of line_items[{index}]"),
                    quantity=quantity,
                    price=price,
                    total=price * quantity - (discount or Decimal(0)),
                )
            )
        customer_id = exact_id(buyer, "Customer") or None
        billing = _address(data.get("billing_address"), email)
        shipping_lines = data.get("shipping_lines") or []
        first_shipping = (
            shipping_lines[0] if shipping_lines and isinstance(shipping_lines[0], dict) else {}
        )
        gateways = data.get("payment_gateway_names") or []
        return Order(
            id=identifier,
            number=text(data.get("name")) or text(data.get("order_number")),
            created_at=timestamp(data.get("created_at")),
            status=text(data.get("financial_status")),
            customer=Customer(
                id=customer_id,
                first_name=text(buyer.get("first_name")) or billing.first_name,
                last_name=text(buyer.get("last_name")) or billing.last_name,
                email=email,
                phone=text(data.get("phone") or buyer.get("phone")) or billing.phone,
            ),
            partner_id=customer_id,
            billing=billing,
            shipping=_address(data.get("shipping_address")),
            items=tuple(items),
            subtotal=optional_money(data.get("subtotal_price"), "subtotal_price"),
            shipping_total=optional_money(
                dig(data, "total_shipping_price_set.shop_money.amount"),
                "total_shipping_price_set.shop_money.amount",
            ),
            discount_total=optional_money(data.get("total_discounts"), "total_discounts"),
            tax_total=optional_money(data.get("total_tax"), "total_tax"),
            total=money(data.get("total_price"), "total_price"),
            currency=text(data.get("currency")),
            payment_method=", ".join(text(name) for name in gateways if text(name)),
            shipping_method=text(first_shipping.get("title")),
            comment=text(data.get("note")),
            raw=data,
        )
