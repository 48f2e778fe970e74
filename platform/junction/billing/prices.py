"""What each plan costs, read from Stripe rather than written into the plans file: a
price changed in Stripe shows on the plans page within minutes, and the page never
promises an amount Checkout would not charge."""

from __future__ import annotations

import asyncio
import logging
import time
from dataclasses import dataclass

from junction.billing.stripe_api import StripeApi, StripeUnavailable

log = logging.getLogger(__name__)

# How long a price read (or a failure to read one) is reused.
FRESH_SECONDS = 600.0
RETRY_SECONDS = 60.0


@dataclass(frozen=True)
class Price:
    # In the currency's smallest unit, as Stripe gives it.
    amount: int
    currency: str
    # day, week, month or year; `interval_count` of them per payment.
    interval: str
    interval_count: int


class PriceBook:
    def __init__(self, stripe: StripeApi) -> None:
        self._stripe = stripe
        self._known: dict[str, tuple[float, Price | None]] = {}

    async def _read(self, price_id: str) -> Price | None:
        try:
            raw = await self._stripe.price(price_id)
        except StripeUnavailable as exc:
            # The plans are still listed, without their price, rather than not at all.
            log.warning("price %s unreadable: %s", price_id, exc)
            self._known[price_id] = (time.monotonic() + RETRY_SECONDS, None)
            return None
        amount = raw.get("amount")
        price = (
            Price(
                amount=int(amount),
                currency=str(raw.get("currency") or ""),
                interval=str(raw.get("interval") or "month"),
                interval_count=int(raw.get("interval_count") or 1),
            )
            if amount is not None
            else None
        )
        self._known[price_id] = (time.monotonic() + FRESH_SECONDS, price)
        return price

    async def prices(self, price_ids: list[str]) -> dict[str, Price | None]:
        """Each price, read at once where not known or stale."""
        now = time.monotonic()
        stale = [p for p in price_ids if self._known.get(p, (0.0, None))[0] <= now]
        await asyncio.gather(*(self._read(p) for p in stale))
        return {p: self._known[p][1] for p in price_ids}
