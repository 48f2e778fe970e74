"""Any JSON order: the installation names where each canonical field is.

`paths` maps canonical names to dotted paths in the delivery, for example
`{"id": "order.number", "total": "order.sum", "items": "order.lines",
"item.name": "title", "item.quantity": "qty"}`. Unnamed fields are looked for under
their canonical name.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar

from junction.plugins.interfaces import Delivery, Translations
from junction_shops.formats.base import ShopFormat, as_object
from junction_shops.order import Address, Customer, Item, Order, OrderFormatError, dig
from junction_shops.reading import money, optional_money, text, timestamp

ADDRESS_FIELDS = tuple(Address.model_fields)
ORDER_FIELDS = (
    "id",
    "number",
    "created_at",
    "status",
    "partner_id",
    "customer.id",
    "customer.first_name",
    "customer.last_name",
    "customer.email",
    "customer.phone",
    *(f"billing.{name}" for name in ADDRESS_FIELDS),
    *(f"shipping.{name}" for name in ADDRESS_FIELDS),
    "items",
    "item.sku",
    "item.name",
    "item.quantity",
    "item.price",
    "item.total",
    "subtotal",
    "shipping_total",
    "discount_total",
    "tax_total",
    "total",
    "currency",
    "payment_method",
    "shipping_method",
    "comment",
)


class GenericJson(ShopFormat):
    """Signature (optional): `X-Junction-Signature`, hex HMAC-SHA256 of the body."""

    name = "generic-json"
    title = "Generic JSON (configurable paths)"
    i18n: ClassVar[Translations] = {"ru": {"title": "JSON произвольного вида (пути настраиваются)"}}

    def idempotency_key(self, delivery: Delivery) -> str | None:
        # The paths are the installation's, unknown at intake: a top-level `id` if any,
        # otherwise the body's hash.
        payload = delivery.payload
        order_id = text(payload.get("id")) if isinstance(payload, dict) else ""
        return f"order:{order_id}" if order_id else None

    def read_order(
        self, payload: Any, headers: Mapping[str, str], paths: Mapping[str, str] | None = None
    ) -> Order:
        data = as_object(payload, "JSON")
        where = dict(paths or {})
        unknown = sorted(set(where) - set(ORDER_FIELDS))
        if unknown:
            raise OrderFormatError(f"unknown order fields in the paths: {', '.join(unknown)}")

        def path(name: str) -> str:
            # Item fields are read inside each item: `item.name` is its `name`.
            return where.get(name, name.removeprefix("item."))

        def get(name: str, source: Any = data) -> Any:
            return dig(source, path(name))

        order_id = text(get("id"))
        if not order_id:
            raise OrderFormatError(f"the order id is missing (path {path('id')!r})")
        total = get("total")
        if total is None:
            raise OrderFormatError(f"the order total is missing (path {path('total')!r})")
        lines = get("items") or []
        if not isinstance(lines, list):
            raise OrderFormatError(f"path {path('items')!r} is not a list of items")
        items = []
        for index, line in enumerate(lines):
            label = f"{path('items')}[{index}]"
            name = text(get("item.name", line))
            if not name:
                raise OrderFormatError(
                    f"the name of {label} is missing (path {path('item.name')!r})"
                )
            quantity = money(get("item.quantity", line) or 1, f"{label}.{path('item.quantity')}")
            price = optional_money(get("item.price", line), f"{label}.{path('item.price')}")
            line_total = optional_money(get("item.total", line), f"{label}.{path('item.total')}")
            items.append(
                Item.priced(
                    sku=text(get("item.sku", line)),
                    name=name,
                    quantity=quantity,
                    price=price,
                    total=line_total,
                )
            )

        def address(kind: str) -> Address:
            return Address(**{name: text(get(f"{kind}.{name}")) for name in ADDRESS_FIELDS})

        partner = text(get("partner_id")) or text(get("customer.id")) or None
        return Order(
            id=order_id,
            number=text(get("number")) or order_id,
            created_at=timestamp(get("created_at")),
            status=text(get("status")),
            customer=Customer(
                id=text(get("customer.id")) or None,
                first_name=text(get("customer.first_name")),
                last_name=text(get("customer.last_name")),
                email=text(get("customer.email")),
                phone=text(get("customer.phone")),
            ),
            partner_id=partner,
            billing=address("billing"),
            shipping=address("shipping"),
            items=tuple(items),
            subtotal=optional_money(get("subtotal"), path("subtotal")),
            shipping_total=optional_money(get("shipping_total"), path("shipping_total")),
            discount_total=optional_money(get("discount_total"), path("discount_total")),
            tax_total=optional_money(get("tax_total"), path("tax_total")),
            total=money(total, path("total")),
            currency=text(get("currency")),
            payment_method=text(get("payment_method")),
            shipping_method=text(get("shipping_method")),
            comment=text(get("comment")),
            raw=data,
        )
