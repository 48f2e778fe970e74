"""What every shop format is: a source that also reads its deliveries as orders."""

from __future__ import annotations

import base64
import hashlib
import hmac
from abc import abstractmethod
from collections.abc import Mapping
from typing import Any, Literal

from junction.plugins.interfaces import Delivery, SampleDelivery, Source
from junction_shops.order import Order, OrderFormatError
from junction_shops.samples import SAMPLES

# Shops without a signature scheme of their own (a module posting OpenCart's order, a
# custom JSON sender) sign with this header: hex HMAC-SHA256 of the raw body.
SIGNATURE_HEADER = "x-junction-signature"


def hmac_matches(secret: str, body: bytes, given: str, encoding: Literal["hex", "base64"]) -> bool:
    """Whether `given` is the HMAC-SHA256 of the raw body under `secret`."""
    digest = hmac.new(secret.encode(), body, hashlib.sha256).digest()
    if encoding == "hex":
        return hmac.compare_digest(digest.hex(), given.strip().lower())
    return hmac.compare_digest(base64.b64encode(digest), given.strip().encode())


class ShopFormat(Source):
    """A shop platform's deliveries: verified, identified, and read as a canonical order."""

    # Where the platform puts its HMAC-SHA256 of the body, and how it writes it.
    signature_header: str = SIGNATURE_HEADER
    signature_encoding: Literal["hex", "base64"] = "hex"

    @abstractmethod
    def read_order(
        self, payload: Any, headers: Mapping[str, str], paths: Mapping[str, str] | None = None
    ) -> Order:
        """The delivery as an order, or `OrderFormatError` naming what is missing.

        `paths` is for formats whose field names a tenant configures (generic JSON).
        """

    def sample(self, order_id: str) -> SampleDelivery | None:
        build = SAMPLES.get(self.name)
        return build(order_id) if build is not None else None

    def verify(self, delivery: Delivery, signing_secret: str) -> bool:
        given = delivery.headers.get(self.signature_header, "")
        return bool(given) and hmac_matches(
            signing_secret, delivery.body, given, self.signature_encoding
        )


def as_object(payload: Any, platform: str) -> dict[str, Any]:
    if not isinstance(payload, dict):
        raise OrderFormatError(f"a {platform} order is a JSON object; got {type(payload).__name__}")
    return payload


def unflatten_form(fields: Mapping[str, Any]) -> dict[str, Any]:
    """PHP-style form keys (`products[0][name]`) back into nested objects and lists."""
    root: dict[str, Any] = {}
    for key, value in fields.items():
        parts = key.replace("]", "").split("[")
        node: Any = root
        for index, part in enumerate(parts):
            last = index == len(parts) - 1
            if last:
                node[part] = value
            else:
                node = node.setdefault(part, {})
                if not isinstance(node, dict):
                    break
    nested = _lists(root)
    return nested if isinstance(nested, dict) else {"items": nested}


def _lists(node: Any) -> Any:
    """Objects whose keys are 0, 1, 2 … become lists, in order."""
    if not isinstance(node, dict):
        return node
    converted = {key: _lists(value) for key, value in node.items()}
    if converted and all(key.isdigit() for key in converted):
        return [converted[key] for key in sorted(converted, key=int)]
    return converted
