"""One order in each platform's own shape: the sample request shown with a webhook URL,
the test order sent from the web app, and the preview's sample. The same purchase in
every format (Anna Petrova, partner 700100, two packs of green tea, courier), so what a
tenant sees does not depend on the platform they picked."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlencode

from junction.plugins.interfaces import SampleDelivery

PARTNER = "700100"
FIRST, LAST = "Anna", "Petrova"
EMAIL, PHONE = "anna@example.com", "+79990000000"
ADDRESS, CITY, POSTCODE, COUNTRY = "Tverskaya 1", "Moscow", "125009", "RU"
SKU, PRODUCT, QUANTITY, PRICE = "TEA-GREEN", "Green tea", 2, "600.00"
TOTAL, CURRENCY = "1200.00", "RUB"
SHIPPING, PAYMENT = "Courier", "Card"


def _json(payload: dict[str, Any]) -> SampleDelivery:
    return SampleDelivery(
        body=json.dumps(payload, ensure_ascii=False).encode(), content_type="application/json"
    )


def _now() -> str:
    return datetime.now(UTC).replace(microsecond=0).isoformat()


def _number(order_id: str) -> int | str:
    """Platforms with numeric ids get a number where the id is one."""
    return int(order_id) if order_id.isdigit() else order_id


def opencart(order_id: str) -> SampleDelivery:
    person = {"firstname": FIRST, "lastname": LAST, "address_1": ADDRESS, "city": CITY}
    return _json(
        {
            "order_id": order_id,
            "customer_id": PARTNER,
            "firstname": FIRST,
            "lastname": LAST,
            "email": EMAIL,
            "telephone": PHONE,
            **{f"payment_{key}": value for key, value in person.items()},
            **{f"shipping_{key}": value for key, value in person.items()},
            "payment_postcode": POSTCODE,
            "payment_iso_code_2": COUNTRY,
            "payment_method": PAYMENT,
            "shipping_method": SHIPPING,
            "total": TOTAL,
            "currency_code": CURRENCY,
            "order_status": "Pending",
            "date_added": datetime.now(UTC).strftime("%Y-%m-%d %H:%M:%S"),
            "products": [
                {"name": PRODUCT, "model": SKU, "quantity": str(QUANTITY), "price": PRICE}
            ],
        }
    )


def woocommerce(order_id: str) -> SampleDelivery:
    billing = {
        "first_name": FIRST,
        "last_name": LAST,
        "address_1": ADDRESS,
        "city": CITY,
        "postcode": POSTCODE,
        "country": COUNTRY,
        "email": EMAIL,
        "phone": PHONE,
    }
    return _json(
        {
            "id": _number(order_id),
            "number": order_id,
            "status": "processing",
            "currency": CURRENCY,
            "date_created_gmt": _now().removesuffix("+00:00"),
            "customer_id": int(PARTNER),
            "billing": billing,
            "shipping": {k: v for k, v in billing.items() if k not in ("email", "phone")},
            "payment_method_title": PAYMENT,
            "line_items": [
                {
                    "name": PRODUCT,
                    "sku": SKU,
                    "quantity": QUANTITY,
                    "price": float(PRICE),
                    "total": TOTAL,
                }
            ],
            "shipping_lines": [{"method_title": SHIPPING, "total": "0.00"}],
            "total": TOTAL,
        }
    )


def shopify(order_id: str) -> SampleDelivery:
    address = {
        "first_name": FIRST,
        "last_name": LAST,
        "address1": ADDRESS,
        "city": CITY,
        "zip": POSTCODE,
        "country_code": COUNTRY,
        "phone": PHONE,
    }
    return _json(
        {
            "id": _number(order_id),
            "name": f"#{order_id}",
            "created_at": _now(),
            "email": EMAIL,
            "financial_status": "paid",
            "currency": CURRENCY,
            "customer": {"id": int(PARTNER), "first_name": FIRST, "last_name": LAST},
            "billing_address": address,
            "shipping_address": address,
            "line_items": [{"title": PRODUCT, "sku": SKU, "quantity": QUANTITY, "price": PRICE}],
            "shipping_lines": [{"title": SHIPPING, "price": "0.00"}],
            "payment_gateway_names": [PAYMENT],
            "total_price": TOTAL,
        }
    )


def tilda(order_id: str) -> SampleDelivery:
    payment = {
        "orderid": order_id,
        "amount": TOTAL,
        "products": [
            {"name": PRODUCT, "sku": SKU, "quantity": QUANTITY, "price": PRICE, "amount": TOTAL}
        ],
    }
    fields = {
        "Name": f"{FIRST} {LAST}",
        "Email": EMAIL,
        "Phone": PHONE,
        "partner_id": PARTNER,
        "payment": json.dumps(payment, ensure_ascii=False),
    }
    return SampleDelivery(
        body=urlencode(fields).encode(), content_type="application/x-www-form-urlencoded"
    )


def generic_json(order_id: str) -> SampleDelivery:
    return _json(
        {
            "id": order_id,
            "created_at": _now(),
            "partner_id": PARTNER,
            "customer": {"first_name": FIRST, "last_name": LAST, "email": EMAIL, "phone": PHONE},
            "shipping_method": SHIPPING,
            "payment_method": PAYMENT,
            "total": TOTAL,
            "currency": CURRENCY,
            "items": [{"sku": SKU, "name": PRODUCT, "quantity": QUANTITY, "price": PRICE}],
        }
    )


SAMPLES: dict[str, Callable[[str], SampleDelivery]] = {
    "opencart": opencart,
    "woocommerce": woocommerce,
    "shopify": shopify,
    "tilda": tilda,
    "generic-json": generic_json,
}
