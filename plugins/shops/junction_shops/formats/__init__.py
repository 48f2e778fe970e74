"""The shop formats, by the name endpoints refer to them with."""

from __future__ import annotations

from junction_shops.formats.base import ShopFormat
from junction_shops.formats.generic import GenericJson
from junction_shops.formats.opencart import OpenCart
from junction_shops.formats.shopify import Shopify
from junction_shops.formats.tilda import Tilda
from junction_shops.formats.woocommerce import WooCommerce

FORMATS: dict[str, ShopFormat] = {
    shop.name: shop for shop in (WooCommerce(), Shopify(), OpenCart(), Tilda(), GenericJson())
}


def shop_format(name: str) -> ShopFormat | None:
    return FORMATS.get(name)
