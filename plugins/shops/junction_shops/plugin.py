"""Hook implementations of the shops plugin: it contributes sources, nothing else."""

from __future__ import annotations

from importlib.metadata import PackageNotFoundError, version

from junction.plugins import hookimpl
from junction.plugins.interfaces import PluginInfo, Source
from junction_shops.formats import FORMATS

try:
    VERSION = version("junction-shops")
except PackageNotFoundError:  # pragma: no cover - running from an uninstalled tree
    VERSION = "0.0.0"


@hookimpl
def junction_plugin() -> PluginInfo:
    return PluginInfo(
        name="shops",
        title="Shop formats",
        version=VERSION,
        description="Reads WooCommerce, Shopify, OpenCart, Tilda and generic JSON orders.",
        i18n={
            "ru": {
                "title": "Форматы магазинов",
                "description": "Читает заказы WooCommerce, Shopify, OpenCart, Tilda и JSON "
                "произвольного вида.",
            }
        },
    )


@hookimpl
def junction_sources() -> list[Source]:
    return list(FORMATS.values())
