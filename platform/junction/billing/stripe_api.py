"""The calls Junction makes to Stripe, in one place: nothing else imports the library's
client, so with billing off (no key) no Stripe call can happen anywhere.

Objects come back as plain dicts: the webhook payloads are dicts too, and one reading of
a subscription serves both.
"""

from __future__ import annotations

import uuid
from typing import Any, cast

import stripe

from junction.settings import Settings

TIMEOUT_SECONDS = 20.0


class StripeUnavailable(RuntimeError):
    """Stripe did not answer, or refused; the message is safe to show (no key in it)."""


class StripeApi:
    def __init__(self, settings: Settings) -> None:
        addresses: Any = (
            {"api": str(settings.stripe_api_url).rstrip("/")} if settings.stripe_api_url else None
        )
        self._client = stripe.StripeClient(
            settings.stripe_secret_key.get_secret_value(),
            base_addresses=addresses,
            http_client=stripe.HTTPXClient(timeout=TIMEOUT_SECONDS),
            max_network_retries=2,
        )

    async def _call(self, what: str, call: Any) -> dict[str, Any]:
        try:
            result = await call
        except stripe.StripeError as exc:
            # The user-facing message only: it never carries the key.
            detail = exc.user_message or type(exc).__name__
            raise StripeUnavailable(f"Stripe refused to {what}: {detail}") from None
        return dict(result.to_dict())

    async def create_customer(self, tenant_id: uuid.UUID, name: str, email: str | None) -> str:
        params: dict[str, Any] = {"name": name, "metadata": {"tenant_id": str(tenant_id)}}
        if email:
            params["email"] = email
        customer = await self._call(
            "create the customer",
            # The same tenant twice (two owners at once) gets one customer.
            self._client.v1.customers.create_async(
                params=cast(Any, params),
                options={"idempotency_key": f"junction-customer-{tenant_id}"},
            ),
        )
        return str(customer["id"])

    async def checkout(
        self,
        *,
        customer: str,
        price: str,
        trial_days: int,
        tenant_id: uuid.UUID,
        plan: str,
        success_url: str,
        cancel_url: str,
    ) -> str:
        subscription_data: dict[str, Any] = {
            "metadata": {"tenant_id": str(tenant_id), "plan": plan}
        }
        if trial_days:
            subscription_data["trial_period_days"] = trial_days
        session = await self._call(
            "start the checkout",
            self._client.v1.checkout.sessions.create_async(
                params=cast(
                    Any,
                    {
                        "mode": "subscription",
                        "customer": customer,
                        "client_reference_id": str(tenant_id),
                        "line_items": [{"price": price, "quantity": 1}],
                        "subscription_data": subscription_data,
                        "metadata": {"tenant_id": str(tenant_id), "plan": plan},
                        "success_url": success_url,
                        "cancel_url": cancel_url,
                    },
                ),
            ),
        )
        return str(session["url"])

    async def portal(self, *, customer: str, return_url: str) -> str:
        session = await self._call(
            "open the billing portal",
            self._client.v1.billing_portal.sessions.create_async(
                params={"customer": customer, "return_url": return_url}
            ),
        )
        return str(session["url"])

    async def subscription(self, subscription_id: str) -> dict[str, Any]:
        return await self._call(
            "read the subscription",
            self._client.v1.subscriptions.retrieve_async(subscription_id),
        )

    async def change_price(self, subscription: dict[str, Any], price: str) -> dict[str, Any]:
        """Move the subscription's one item to another price, prorated as the Stripe
        account is set to. `plan` rather than `price`: Stripe takes a price id there, and
        so do the local Stripe servers the tests run against."""
        item = subscription["items"]["data"][0]["id"]
        return await self._call(
            "change the plan",
            self._client.v1.subscriptions.update_async(
                subscription["id"], params={"items": [{"id": item, "plan": price}]}
            ),
        )

    async def price(self, price_id: str) -> dict[str, Any]:
        """A recurring price, through the Plans API: Stripe answers it for a price id
        (it is kept compatible with Prices), and so do the local Stripe servers."""
        return await self._call("read the price", self._client.v1.plans.retrieve_async(price_id))

    async def invoices(self, customer: str, limit: int) -> list[dict[str, Any]]:
        page = await self._call(
            "list the invoices",
            self._client.v1.invoices.list_async(params={"customer": customer, "limit": limit}),
        )
        return list(page.get("data", []))
