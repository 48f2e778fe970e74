"""Stripe's webhook: verified, applied once, and the same state whatever the order.

A delivery is trusted only with a valid `Stripe-Signature` made within the tolerance
(300 s); anything else is refused and changes nothing. Each event's id is recorded as it
is applied, so a second delivery of it is a no-op. Events that concern a subscription
are not applied from their (possibly stale) payload: Junction reads the subscription
from Stripe as it is now, so deliveries that arrive late, twice or out of order all
leave the state Stripe holds.
"""

from __future__ import annotations

import json
import logging
import time
import uuid
from typing import Any

import stripe
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from junction.billing.models import StripeEvent, TenantBilling
from junction.billing.subscriptions import Billing, apply_subscription
from junction.db.base import utcnow
from junction.db.tenancy import cross_tenant
from junction.runtime import Runtime

log = logging.getLogger(__name__)

TOLERANCE_SECONDS = 300
# The events that move a subscription; others are recorded and otherwise left alone.
HANDLED = frozenset(
    {
        "checkout.session.completed",
        "customer.subscription.created",
        "customer.subscription.updated",
        "customer.subscription.deleted",
        "customer.subscription.paused",
        "customer.subscription.resumed",
        "invoice.paid",
        "invoice.payment_succeeded",
        "invoice.payment_failed",
    }
)


class WebhookRefused(ValueError):
    """The delivery is not one Junction can trust or read; nothing was changed."""


def verified_event(body: bytes, signature: str | None, secret: str) -> dict[str, Any]:
    try:
        stripe.WebhookSignature.verify_header(body, signature, secret, TOLERANCE_SECONDS)
    except stripe.SignatureVerificationError as exc:
        raise WebhookRefused(
            f"the Stripe-Signature is not valid: {exc.user_message or exc}"
        ) from None
    timestamp = int(dict(p.split("=", 1) for p in (signature or "").split(",") if "=" in p)["t"])
    if timestamp > time.time() + TOLERANCE_SECONDS:
        raise WebhookRefused("the Stripe-Signature is dated in the future")
    try:
        event = json.loads(body)
    except ValueError:
        raise WebhookRefused("the body is not JSON") from None
    if not isinstance(event, dict) or not isinstance(event.get("id"), str):
        raise WebhookRefused("the body is not a Stripe event (no id)")
    if not isinstance(event.get("type"), str) or not isinstance(
        (event.get("data") or {}).get("object"), dict
    ):
        raise WebhookRefused("the body is not a Stripe event (no type or data.object)")
    return event


def _id_of(value: Any) -> str | None:
    """An id Stripe may send bare or expanded into its object."""
    if isinstance(value, dict):
        value = value.get("id")
    return value if isinstance(value, str) and value else None


def _references(event: dict[str, Any]) -> tuple[str | None, str | None, str | None]:
    """(customer, subscription, tenant id as Junction gave it) the event concerns."""
    obj = event["data"]["object"]
    kind = obj.get("object")
    customer = _id_of(obj.get("customer"))
    subscription = None
    tenant = None
    if kind == "subscription":
        subscription = _id_of(obj.get("id"))
    elif kind == "invoice":
        parent = ((obj.get("parent") or {}).get("subscription_details") or {}).get("subscription")
        subscription = _id_of(obj.get("subscription")) or _id_of(parent)
    elif kind == "checkout.session":
        subscription = _id_of(obj.get("subscription"))
        tenant = obj.get("client_reference_id") or (obj.get("metadata") or {}).get("tenant_id")
    return customer, subscription, tenant


async def receive(runtime: Runtime, billing: Billing, event: dict[str, Any]) -> str:
    """Apply one verified event; returns what was done, in a word, for the log and the
    answer. Raises when Stripe cannot be read: the delivery is then refused with a 5xx
    and Stripe sends it again."""
    async with runtime.sessionmaker() as session:
        with cross_tenant(session, "billing: a Stripe event"):
            if await session.get(StripeEvent, event["id"]) is not None:
                return "duplicate"
            customer, subscription_id, tenant_ref = _references(event)
            outcome = "recorded"
            if event["type"] in HANDLED and subscription_id is not None:
                row = await _tenant_billing(session, customer, tenant_ref)
                if row is None:
                    outcome = "unknown customer"
                    log.warning("Stripe event %s for a customer no tenant has", event["id"])
                else:
                    subscription = await billing.stripe.subscription(subscription_id)
                    applied = apply_subscription(row, subscription, utcnow())
                    outcome = "applied" if applied else "superseded"
            session.add(StripeEvent(id=event["id"], type=event["type"], customer=customer))
            try:
                await session.commit()
            except IntegrityError:
                # The same event, delivered twice at once: the other delivery applied it.
                await session.rollback()
                return "duplicate"
    log.info("Stripe event %s (%s): %s", event["id"], event["type"], outcome)
    return outcome


async def _tenant_billing(
    session: AsyncSession, customer: str | None, tenant_ref: str | None
) -> TenantBilling | None:
    # Held until the event is recorded: two events of one tenant, applied at once, read
    # the subscription from Stripe one after the other, the later reading last.
    if customer is not None:
        row = await session.scalar(
            select(TenantBilling)
            .where(TenantBilling.stripe_customer_id == customer)
            .with_for_update()
        )
        if row is not None:
            return row
    if tenant_ref is None:
        return None
    try:
        tenant_id = uuid.UUID(str(tenant_ref))
    except ValueError:
        return None
    row = await session.scalar(
        select(TenantBilling).where(TenantBilling.tenant_id == tenant_id).with_for_update()
    )
    if row is not None and row.stripe_customer_id is None:
        row.stripe_customer_id = customer
    return row
