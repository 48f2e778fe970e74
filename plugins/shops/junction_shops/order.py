"""The canonical order: what every shop format reads its platform's delivery into.

Integrations work on this shape only, so a lead is built the same way whichever shop
sent the order. `raw` keeps the delivery's own fields for mappings that need them.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any

from pydantic import BaseModel, ConfigDict, Field


class OrderFormatError(ValueError):
    """The delivery does not read as its format; the message names what is missing."""


class Address(BaseModel):
    model_config = ConfigDict(frozen=True)

    first_name: str = ""
    last_name: str = ""
    company: str = ""
    address_1: str = ""
    address_2: str = ""
    city: str = ""
    state: str = ""
    postcode: str = ""
    country: str = ""
    email: str = ""
    phone: str = ""

    def is_empty(self) -> bool:
        return not any(self.model_dump().values())

    def one_line(self) -> str:
        name = " ".join(part for part in (self.first_name, self.last_name) if part)
        parts = (
            name,
            self.company,
            self.address_1,
            self.address_2,
            self.city,
            self.state,
            self.postcode,
            self.country,
        )
        return ", ".join(part for part in parts if part)


class Customer(BaseModel):
    model_config = ConfigDict(frozen=True)

    id: str | None = None
    first_name: str = ""
    last_name: str = ""
    email: str = ""
    phone: str = ""

    @property
    def name(self) -> str:
        return " ".join(part for part in (self.first_name, self.last_name) if part)


class Item(BaseModel):
    model_config = ConfigDict(frozen=True)

    sku: str = ""
    name: str
    quantity: Decimal
    price: Decimal
    total: Decimal

    @classmethod
    def priced(
        cls,
        *,
        name: str,
        quantity: Decimal,
        price: Decimal | None,
        total: Decimal | None,
        sku: str = "",
    ) -> Item:
        """An item from whichever of its unit price and line total the platform sent."""
        if price is None:
            price = total / quantity if total is not None and quantity else Decimal(0)
        return cls(
            sku=sku,
            name=name,
            quantity=quantity,
            price=price,
            total=total if total is not None else price * quantity,
        )


class Order(BaseModel):
    model_config = ConfigDict(frozen=True)

    id: str
    number: str = ""
    created_at: datetime | None = None
    status: str = ""
    customer: Customer = Field(default_factory=Customer)
    # The partner whose contact gets the lead (the shop's customer or affiliate id).
    partner_id: str | None = None
    billing: Address = Field(default_factory=Address)
    shipping: Address = Field(default_factory=Address)
    items: tuple[Item, ...] = ()
    subtotal: Decimal | None = None
    shipping_total: Decimal | None = None
    discount_total: Decimal | None = None
    tax_total: Decimal | None = None
    total: Decimal
    currency: str = ""
    payment_method: str = ""
    shipping_method: str = ""
    comment: str = ""
    raw: dict[str, Any] = Field(default_factory=dict)

    def value(self, path: str) -> Any:
        """An order field by its dotted name: canonical first (`billing.city`, `total`,
        `customer.email`), then the delivery's own (`payment_address_1`, `raw.x.y`).

        Returns None when neither has it.
        """
        if path.startswith("raw."):
            return dig(self.raw, path.removeprefix("raw."))
        found = dig(self.model_dump(exclude={"raw"}), path)
        return found if found is not None else dig(self.raw, path)


def dig(data: Any, path: str) -> Any:
    """`a.b.0.c` in nested mappings and lists; None where the path leads nowhere."""
    current = data
    for part in path.split("."):
        if isinstance(current, dict):
            current = current.get(part)
        elif isinstance(current, (list, tuple)) and part.isdigit() and int(part) < len(current):
            current = current[int(part)]
        else:
            return None
        if current is None:
            return None
    return current
