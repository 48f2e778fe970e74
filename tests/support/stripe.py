"""Stripe for the tests: localstripe (with its Checkout and Portal stand-ins, see
`localstripe_server`), the installation's billing settings, and a desk to act as Stripe
and as the paying customer.

What is covered how:
* customers, subscriptions, plan changes, invoices and card payments run in localstripe,
  which signs and sends its own webhooks; the receiver catches them and the tests hand
  them to Junction's endpoint exactly as they came (in the order, and as many times, as
  a test needs);
* Checkout and the Customer Portal are outside the machine and localstripe lacks them:
  their stand-ins answer the session calls, and what Stripe sends once a customer paid
  (`checkout.session.completed`) is built from a real Stripe event and signed with the
  Stripe library's own signing.
"""

from __future__ import annotations

import copy
import json
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
import stripe
from pydantic import AnyHttpUrl, SecretStr

from junction.settings import Settings
from tests.support.processes import ROOT, free_port, wait_for
from tests.support.receiver import Received, Receiver

STRIPE_KEY = "sk_test_junction_local"
WEBHOOK_SECRET = "whsec_junction_test_signing_secret"
PLANS_FILE = Path(__file__).with_name("billing_plans.yaml")
# The test plans' prices in localstripe: (amount in cents, interval).
PRICES = {
    "price_test_starter": (1900, "month"),
    "price_test_starter_yearly": (19000, "year"),
    "price_test_business": (9900, "month"),
    "price_test_unlimited": (29900, "month"),
}
REAL_EVENTS = ROOT / "tests/billing/real-payloads"
WEBHOOK_PATH = "/stripe-webhooks"
GOOD_CARD = "4242424242424242"
# Attaches, then every charge to it is declined.
DECLINING_CARD = "4000000000000341"


@pytest.fixture(scope="session")
def stripe_url(tmp_path_factory: pytest.TempPathFactory, receiver: Receiver) -> Iterator[str]:
    port = free_port()
    log = (tmp_path_factory.mktemp("localstripe") / "localstripe.log").open("wb")
    process = subprocess.Popen(
        [sys.executable, "-m", "tests.support.localstripe_server", "--port", str(port)],
        cwd=ROOT,
        env=os.environ.copy(),
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    url = f"http://127.0.0.1:{port}"

    def ready() -> bool:
        try:
            return httpx.get(f"{url}/v1/customers", auth=(STRIPE_KEY, "")).status_code == 200
        except httpx.TransportError:
            return False

    try:
        wait_for(ready, timeout=30, what="localstripe to answer")
        httpx.post(
            f"{url}/_config/webhooks/junction",
            data={"url": receiver.url + WEBHOOK_PATH, "secret": WEBHOOK_SECRET},
        ).raise_for_status()
        client = _client(url)
        product = client.v1.products.create(params={"name": "Junction"})
        for price, (amount, interval) in PRICES.items():
            client.v1.plans.create(
                params={
                    "id": price,
                    "product": product.id,
                    "amount": amount,
                    "currency": "eur",
                    "interval": interval,
                }
            )
        yield url
    finally:
        process.terminate()
        process.wait(timeout=10)
        log.close()


def _client(url: str) -> stripe.StripeClient:
    return stripe.StripeClient(STRIPE_KEY, base_addresses={"api": url}, max_network_retries=0)


def billing_settings(settings: Settings, stripe_url: str, **overrides: Any) -> Settings:
    """The installation's settings with billing on, against localstripe."""
    return settings.model_copy(
        update={
            "stripe_secret_key": SecretStr(STRIPE_KEY),
            "stripe_webhook_secret": SecretStr(WEBHOOK_SECRET),
            "stripe_api_url": AnyHttpUrl(stripe_url),
            "billing_plans_file": PLANS_FILE,
            **overrides,
        }
    )


@dataclass
class StripeDesk:
    """Stripe's side of things: what a customer does there, and what Stripe sends."""

    url: str
    receiver: Receiver

    @property
    def client(self) -> stripe.StripeClient:
        return _client(self.url)

    def use_card(self, customer: str, number: str = GOOD_CARD) -> None:
        method = self.client.v1.payment_methods.create(
            params={
                "type": "card",
                "card": {"number": number, "exp_month": 12, "exp_year": 2031, "cvc": "123"},
            }
        )
        self.client.v1.payment_methods.attach(method.id, params={"customer": customer})
        self.client.v1.customers.update(
            customer, params={"invoice_settings": {"default_payment_method": method.id}}
        )

    def pay_checkout(self, session: dict[str, Any]) -> dict[str, Any]:
        """What Stripe does when the customer pays at the Checkout URL: the card is kept,
        the subscription made. Returns the subscription."""
        self.use_card(session["customer"])
        price = session["line_items"][0]["price"]
        subscription = self.client.v1.subscriptions.create(
            params={
                "customer": session["customer"],
                "items": [{"plan": price}],
                "metadata": session.get("subscription_data", {}).get("metadata", {}),
            }
        )
        return dict(subscription.to_dict())

    def payment_failed(self, subscription: str) -> bytes:
        """`invoice.payment_failed` for the subscription's open invoice, on a real event's
        shape. localstripe marks the subscription past due when a card is declined, but
        sends this event only for failures it learns of later (bank debits)."""
        held = self.client.v1.subscriptions.retrieve(subscription).to_dict()
        invoice = self.client.v1.invoices.retrieve(held["latest_invoice"]).to_dict()
        sample = json.loads(
            (REAL_EVENTS / "hookdeck_stripe_2022-11-15_invoice.paid.json").read_text()
        )
        event = copy.deepcopy(sample["body"])
        event.update(id=f"evt_test_failed_{invoice['id']}", type="invoice.payment_failed")
        event["created"] = int(time.time())
        event["data"]["object"].update(
            id=invoice["id"],
            customer=held["customer"],
            subscription=subscription,
            status="open",
            paid=False,
            amount_paid=0,
            attempt_count=1,
        )
        return json.dumps(event).encode()

    def pay_open_invoices(self, customer: str) -> None:
        """The customer pays what is open (in the portal, or at the invoice's page)."""
        for invoice in self.client.v1.invoices.list(params={"customer": customer}).data:
            if invoice.status == "open":
                self.client.v1.invoices.pay(invoice.id)

    def all_sessions(self) -> list[dict[str, Any]]:
        """Every Checkout and portal session the stand-ins were asked for, oldest first."""
        sessions: list[dict[str, Any]] = httpx.get(f"{self.url}/_config/stand_in/sessions").json()
        return sessions

    def sessions(self, customer: str) -> list[dict[str, Any]]:
        return [s for s in self.all_sessions() if s.get("customer") == customer]

    def sent(self, customer: str, kind: str | None = None) -> list[Received]:
        """The webhooks localstripe sent about the customer so far (optionally one type)."""
        found = []
        for received in self.receiver.at(WEBHOOK_PATH):
            event = received.json()
            obj = event["data"]["object"]
            about = obj.get("customer") or (
                obj.get("id") if obj.get("object") == "customer" else None
            )
            if about == customer and (kind is None or event["type"] == kind):
                found.append(received)
        return found

    def wait_sent(self, customer: str, kind: str, count: int = 1) -> list[Received]:
        def enough() -> list[Received] | None:
            found = self.sent(customer, kind)
            return found if len(found) >= count else None

        return wait_for(
            enough,
            timeout=15,
            what=f"{count} {kind} webhooks from localstripe",
        )

    def checkout_completed(self, session: dict[str, Any], subscription: str) -> bytes:
        """`checkout.session.completed` for a paid session, on a real event's shape."""
        sample = json.loads(
            (REAL_EVENTS / "hookdeck_stripe_2022-11-15_checkout.session.completed.json").read_text()
        )
        event = copy.deepcopy(sample["body"])
        event["id"] = f"evt_test_{session['id'][-20:]}"
        event["created"] = int(time.time())
        obj = event["data"]["object"]
        obj.update(
            id=session["id"],
            customer=session["customer"],
            client_reference_id=session.get("client_reference_id"),
            metadata=session.get("metadata", {}),
            mode="subscription",
            subscription=subscription,
            status="complete",
            payment_status="paid",
        )
        return json.dumps(event).encode()


def stripe_signature(body: bytes, *, secret: str = WEBHOOK_SECRET, at: int | None = None) -> str:
    """A `Stripe-Signature` made by the Stripe library's own signing."""
    header: str = stripe.WebhookSignature.generate_signature_header(body.decode(), secret, at)
    return header


async def deliver(api: httpx.AsyncClient, body: bytes, signature: str) -> httpx.Response:
    return await api.post(
        "/billing/stripe/webhook",
        content=body,
        headers={"Stripe-Signature": signature, "Content-Type": "application/json"},
    )


async def forward(api: httpx.AsyncClient, received: Received) -> httpx.Response:
    """Hand a delivery localstripe made to Junction's endpoint, as it came."""
    return await deliver(api, received.body, received.headers["stripe-signature"])


@pytest.fixture
def stripe_desk(stripe_url: str, receiver: Receiver) -> StripeDesk:
    return StripeDesk(stripe_url, receiver)
