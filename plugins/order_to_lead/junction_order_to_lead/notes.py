"""The default note: the whole order, readably, in the tenant's language."""

from __future__ import annotations

from decimal import Decimal
from typing import Literal

from junction_shops.order import Address, Order

Language = Literal["ru", "en"]

WORDS: dict[str, dict[Language, str]] = {
    "order": {"ru": "Заказ", "en": "Order"},
    "of": {"ru": "от", "en": "of"},
    "customer": {"ru": "Покупатель", "en": "Customer"},
    "partner": {"ru": "Партнёр", "en": "Partner"},
    "email": {"ru": "Email", "en": "Email"},
    "phone": {"ru": "Телефон", "en": "Phone"},
    "billing": {"ru": "Адрес оплаты", "en": "Billing address"},
    "shipping": {"ru": "Адрес доставки", "en": "Shipping address"},
    "items": {"ru": "Товары", "en": "Items"},
    "subtotal": {"ru": "Подытог", "en": "Subtotal"},
    "shipping_total": {"ru": "Доставка", "en": "Shipping"},
    "discount_total": {"ru": "Скидка", "en": "Discount"},
    "tax_total": {"ru": "Налог", "en": "Tax"},
    "total": {"ru": "Итого", "en": "Total"},
    "payment_method": {"ru": "Оплата", "en": "Payment"},
    "shipping_method": {"ru": "Способ доставки", "en": "Shipping method"},
    "status": {"ru": "Статус", "en": "Status"},
    "comment": {"ru": "Комментарий", "en": "Comment"},
}


def _amount(value: Decimal, currency: str) -> str:
    shown = format(value.quantize(Decimal("0.01")), "f")
    return f"{shown} {currency}".strip()


def default_note(order: Order, language: Language) -> str:
    def word(key: str) -> str:
        return WORDS[key][language]

    lines = [f"{word('order')} {order.number or order.id}"]
    if order.created_at:
        lines[0] += f" {word('of')} {order.created_at:%Y-%m-%d %H:%M} UTC"
    if order.status:
        lines.append(f"{word('status')}: {order.status}")
    customer = order.customer
    if customer.name:
        lines.append(f"{word('customer')}: {customer.name}")
    if order.partner_id:
        lines.append(f"{word('partner')}: {order.partner_id}")
    if customer.email:
        lines.append(f"{word('email')}: {customer.email}")
    if customer.phone:
        lines.append(f"{word('phone')}: {customer.phone}")

    def address(key: str, value: Address) -> None:
        if not value.is_empty() and value.one_line():
            lines.append(f"{word(key)}: {value.one_line()}")

    address("billing", order.billing)
    address("shipping", order.shipping)
    if order.items:
        lines.append("")
        lines.append(f"{word('items')}:")
        for item in order.items:
            sku = f" [{item.sku}]" if item.sku else ""
            quantity = format(item.quantity.normalize(), "f")
            lines.append(
                f"— {item.name}{sku}: {quantity} × {_amount(item.price, order.currency)}"
                f" = {_amount(item.total, order.currency)}"
            )
    lines.append("")
    for key in ("subtotal", "shipping_total", "discount_total", "tax_total"):
        value = getattr(order, key)
        if value:
            lines.append(f"{word(key)}: {_amount(value, order.currency)}")
    lines.append(f"{word('total')}: {_amount(order.total, order.currency)}")
    for key in ("payment_method", "shipping_method", "comment"):
        value = getattr(order, key)
        if value:
            lines.append(f"{word(key)}: {value}")
    return "\n".join(lines)
