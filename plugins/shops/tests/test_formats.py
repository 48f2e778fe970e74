"""Shop formats read real deliveries (as their platforms published them) into orders."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import pytest

from junction.intake.parsing import parse_body
from junction.plugins.interfaces import Delivery
from junction_shops.formats import FORMATS
from junction_shops.formats.base import SIGNATURE_HEADER
from junction_shops.order import OrderFormatError

PAYLOADS = Path(__file__).parent / "real-payloads"
SECRET = "shop-test-secret"


def _delivery(body: bytes, content_type: str, **headers: str) -> Delivery:
    return Delivery(
        body=body,
        content_type=content_type,
        headers={name.replace("_", "-").lower(): value for name, value in headers.items()},
        payload=parse_body(body, content_type),
    )


def _b64_hmac(body: bytes) -> str:
    return base64.b64encode(hmac.new(SECRET.encode(), body, hashlib.sha256).digest()).decode()


def _shopify() -> tuple[bytes, dict[str, str]]:
    sample = json.loads(
        (PAYLOADS / "shopify/hookdeck_shopify_2024-10_orders.create.json").read_text()
    )
    return json.dumps(sample["body"]).encode(), sample["headers"]


def test_a_shopify_order_reads_with_its_exact_64_bit_ids() -> None:
    body, headers = _shopify()
    shop = FORMATS["shopify"]
    delivery = _delivery(
        body, "application/json", **{**headers, "x-shopify-hmac-sha256": _b64_hmac(body)}
    )
    # The stored header was made for other bytes: signed again with a test secret.
    assert shop.verify(delivery, SECRET)
    assert not shop.verify(_delivery(body, "application/json", **headers), SECRET)
    order = shop.read_order(delivery.payload, delivery.headers)
    # The body's number was rounded on its way; the GraphQL id keeps the true one.
    assert order.id == "820982911946154508"
    assert shop.idempotency_key(delivery) == "order:820982911946154508"
    assert order.partner_id == "115310627314723954"
    assert order.number == "#9999"
    assert order.created_at == datetime(2022, 1, 1, 0, 0, tzinfo=UTC)
    assert order.total == Decimal("388.00")
    assert order.currency == "USD"
    assert order.shipping_total == Decimal("10.00")
    assert [(i.sku, i.name, i.quantity, i.price, i.total) for i in order.items] == [
        ("IPOD2008PINK", "IPod Nano - 8GB", Decimal(1), Decimal("199.00"), Decimal("199.00"))
    ] * 2
    assert order.shipping.city == "Shippington"
    assert order.shipping.country == "US"
    assert order.value("shipping.company") == "Shipping Company"
    assert order.value("admin_graphql_api_id") == "gid://shopify/Order/820982911946154508"


def test_a_woocommerce_order_reads_and_its_ping_is_acknowledged() -> None:
    body = (
        PAYLOADS / "woocommerce/wc-rest-api-docs_wp-api-v3_create-order_response.json"
    ).read_bytes()
    shop = FORMATS["woocommerce"]
    delivery = _delivery(body, "application/json", x_wc_webhook_signature=_b64_hmac(body))
    assert shop.verify(delivery, SECRET)
    assert not shop.verify(_delivery(body, "application/json"), SECRET)
    assert shop.acknowledge(delivery) is None
    order = shop.read_order(delivery.payload, delivery.headers)
    assert order.id == "727"
    assert shop.idempotency_key(delivery) == "order:727"
    # customer_id 0 is a guest: no partner.
    assert order.partner_id is None
    assert order.total == Decimal("29.35")
    assert order.created_at == datetime(2017, 3, 22, 19, 28, 2, tzinfo=UTC)
    assert [(i.sku, i.name, i.quantity, i.price, i.total) for i in order.items] == [
        ("", "Woo Single #1", Decimal(2), Decimal(3), Decimal("6.00")),
        (
            "Bar3",
            "Ship Your Idea \u2013 Color: Black, Size: M Test",
            1,
            Decimal(12),
            Decimal("12.00"),
        ),
    ]
    assert order.shipping_method == "Flat Rate"
    assert order.billing.email == "john.doe@example.com"
    assert order.payment_method == "Direct Bank Transfer"
    ping = _delivery(b"webhook_id=12", "application/x-www-form-urlencoded")
    assert shop.acknowledge(ping) is not None


@pytest.mark.parametrize("as_form", [False, True], ids=["json", "form"])
def test_an_opencart_order_reads_from_json_or_a_form(as_form: bool) -> None:
    body = (PAYLOADS / "opencart/arastta_getOrder_order18.json").read_bytes()
    content_type = "application/json"
    if as_form:
        data = json.loads(body)
        fields: dict[str, Any] = {k: v for k, v in data.items() if k != "products"}
        fields = {k: ("" if v is False else v) for k, v in fields.items()}
        for index, product in enumerate(data["products"]):
            for key, value in product.items():
                fields[f"products[{index}][{key}]"] = value
        body = urlencode(fields).encode()
        content_type = "application/x-www-form-urlencoded"
    shop = FORMATS["opencart"]
    delivery = _delivery(body, content_type)
    order = shop.read_order(delivery.payload, delivery.headers)
    assert order.id == "18"
    assert shop.idempotency_key(delivery) == "order:18"
    assert order.partner_id == "1"
    assert order.total == Decimal("18.0000")
    assert order.currency == "USD"
    assert order.billing.city == "İstanbul"
    assert order.billing.address_1 == "Cumhuriyet Cd."
    assert order.customer.email == "ali@arastta.com"
    assert [(i.sku, i.name, i.quantity, i.price, i.total) for i in order.items] == [
        ("Product 3", "Mesh Breathable", Decimal(1), Decimal(13), Decimal(13))
    ]
    # The seed's mappings name OpenCart's own fields.
    assert order.value("payment_address_1") == "Cumhuriyet Cd."
    assert order.value("customer_id") == "1"


def test_an_opencart_delivery_is_verified_by_the_junction_signature() -> None:
    body = (PAYLOADS / "opencart/arastta_getOrder_order18.json").read_bytes()
    signature = hmac.new(SECRET.encode(), body, hashlib.sha256).hexdigest()
    shop = FORMATS["opencart"]
    assert shop.verify(_delivery(body, "application/json", **{SIGNATURE_HEADER: signature}), SECRET)
    assert not shop.verify(_delivery(body, "application/json"), SECRET)


TILDA_PAYMENT = {
    "orderid": "1873410291",
    "products": [
        {"name": "Чай улун", "quantity": 2, "amount": 1200, "price": "600", "sku": "TEA-1"},
        "Чайник - 1x2500 = 2500",
    ],
    "amount": "3700",
}


def test_a_tilda_form_order_reads_with_its_products() -> None:
    form = {
        "Name": "Ирина Петрова",
        "Email": "irina@example.ru",
        "Phone": "+7 900 000-00-00",
        "partner_id": "P-77",
        "payment": json.dumps(TILDA_PAYMENT, ensure_ascii=False),
        "formid": "form123",
        "tranid": "4412:1873410291",
        "junction_key": SECRET,
    }
    body = urlencode(form).encode()
    shop = FORMATS["tilda"]
    delivery = _delivery(body, "application/x-www-form-urlencoded")
    assert shop.verify(delivery, SECRET)
    assert not shop.verify(delivery, "another-secret")
    order = shop.read_order(delivery.payload, delivery.headers)
    assert order.id == "1873410291"
    assert shop.idempotency_key(delivery) == "order:1873410291"
    assert order.partner_id == "P-77"
    assert order.customer.first_name == "Ирина"
    assert order.customer.last_name == "Петрова"
    assert order.total == Decimal(3700)
    assert [(i.sku, i.name, i.quantity, i.price, i.total) for i in order.items] == [
        ("TEA-1", "Чай улун", Decimal(2), Decimal(600), Decimal(1200)),
        ("", "Чайник", Decimal(1), Decimal(2500), Decimal(2500)),
    ]
    assert "junction_key" not in order.raw
    test = _delivery(b"test=test", "application/x-www-form-urlencoded")
    assert shop.acknowledge(test) is not None


def test_a_generic_json_order_reads_through_configured_paths() -> None:
    body = json.dumps(
        {
            "order": {
                "no": 5512,
                "sum": "990.50",
                "client": {"ref": "partner-9", "mail": "a@b.c"},
                "lines": [{"code": "X1", "title": "Thing", "qty": "3", "each": "330.1666"}],
            }
        }
    ).encode()
    paths = {
        "id": "order.no",
        "total": "order.sum",
        "partner_id": "order.client.ref",
        "customer.email": "order.client.mail",
        "items": "order.lines",
        "item.sku": "code",
        "item.name": "title",
        "item.quantity": "qty",
        "item.price": "each",
    }
    shop = FORMATS["generic-json"]
    delivery = _delivery(body, "application/json")
    order = shop.read_order(delivery.payload, delivery.headers, paths)
    assert order.id == "5512"
    assert order.partner_id == "partner-9"
    assert order.customer.email == "a@b.c"
    assert order.items[0].quantity == 3
    assert order.items[0].total == Decimal("990.4998")
    with pytest.raises(OrderFormatError, match="unknown order fields in the paths: colour"):
        shop.read_order(delivery.payload, delivery.headers, {"colour": "x"})


@pytest.mark.parametrize(
    ("name", "payload", "message"),
    [
        ("woocommerce", {"total": "1"}, "the order id is missing (field 'id')"),
        ("shopify", {"id": 1, "total_price": "x"}, "field 'total_price' is not an amount: 'x'"),
        (
            "opencart",
            {"order_id": "3", "total": "1", "products": [{"quantity": "1", "price": "1"}]},
            "the name of products[0] is missing (field 'name')",
        ),
        ("tilda", {"Name": "A"}, "the order is missing (field 'payment'); is the form a cart?"),
        ("generic-json", {"id": 1}, "the order total is missing (path 'total')"),
        ("shopify", [1, 2], "a Shopify order is a JSON object; got list"),
    ],
)
def test_a_delivery_that_is_not_its_format_says_what_is_missing(
    name: str, payload: Any, message: str
) -> None:
    with pytest.raises(OrderFormatError) as raised:
        FORMATS[name].read_order(payload, {})
    assert str(raised.value) == message


@pytest.mark.parametrize("name", sorted(FORMATS))
def test_each_formats_sample_reads_as_the_same_order(name: str) -> None:
    """The sample a tenant is shown (and sends as a test order) is one its format reads."""
    sample = FORMATS[name].sample("4242")
    assert sample is not None
    delivery = _delivery(sample.body, sample.content_type)
    assert FORMATS[name].idempotency_key(delivery) == "order:4242"
    order = FORMATS[name].read_order(delivery.payload, delivery.headers)
    assert order.id == "4242"
    assert order.partner_id == "700100"
    assert order.total == Decimal("1200.00")
    assert [(item.name, item.quantity) for item in order.items] == [("Green tea", Decimal(2))]
    assert order.customer.first_name == "Anna"
    if name != "tilda":
        assert order.shipping_method == "Courier"
