"""Tenants' subscriptions: starting one through Stripe Checkout, changing plan, the
portal, and keeping Junction's copy of each subscription as Stripe reports it."""

from __future__ import annotations

import logging
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from junction.billing.models import TenantBilling
from junction.billing.plans import Plan, Plans, load_plans
from junction.billing.prices import PriceBook
from junction.billing.standing import LIVE_STATUSES, UNPAID_STATUSES, Standing, standing_of
from junction.billing.stripe_api import StripeApi
from junction.db.base import utcnow
from junction.settings import Settings

log = logging.getLogger(__name__)


class BillingRefused(ValueError):
    """What the tenant asked cannot be done; the message says why, in its words."""


@dataclass
class Billing:
    """Billing as this installation runs it; the runtime holds one only when Stripe is
    configured."""

    plans: Plans
    stripe: StripeApi
    grace: timedelta
    prices: PriceBook

    def standing(self, billing: TenantBilling | None, now: datetime) -> Standing:
        return standing_of(billing, self.plans, now, self.grace)


def build_billing(settings: Settings) -> Billing | None:
    if not settings.billing_enabled:
        return None
    stripe = StripeApi(settings)
    return Billing(
        plans=load_plans(settings.billing_plans_file),
        stripe=stripe,
        grace=timedelta(days=settings.billing_grace_days),
        prices=PriceBook(stripe),
    )


async def billing_row(session: AsyncSession, tenant_id: uuid.UUID) -> TenantBilling:
    """The tenant's billing record, made on first use (with the session's tenant scope)."""
    row = await session.get(TenantBilling, tenant_id)
    if row is None:
        row = TenantBilling(tenant_id=tenant_id)
        session.add(row)
        await session.flush()
    return row


def moment(value: Any) -> datetime | None:
    """A Stripe timestamp (seconds since the epoch) as a time, or None."""
    return datetime.fromtimestamp(int(value), UTC) if value is not None else None


def subscription_facts(subscription: dict[str, Any]) -> dict[str, Any]:
    """What Junction keeps of a Stripe subscription. Stripe moved the period onto the
    items and prices replaced plans over the API's versions; both shapes are read."""
    items = (subscription.get("items") or {}).get("data") or [{}]
    item = items[0]
    price = (item.get("price") or item.get("plan") or subscription.get("plan") or {}).get("id")
    start = subscription.get("current_period_start", item.get("current_period_start"))
    end = subscription.get("current_period_end", item.get("current_period_end"))
    return {
        "stripe_subscription_id": subscription["id"],
        "subscription_status": subscription.get("status"),
        "stripe_price": price,
        "period_start": moment(start),
        "period_end": moment(end),
        "cancel_at_period_end": bool(subscription.get("cancel_at_period_end")),
    }


def apply_subscription(row: TenantBilling, subscription: dict[str, Any], now: datetime) -> bool:
    """Take Stripe's current word on a subscription. Returns False when it is left aside:
    an old subscription ending while the tenant has a newer live one."""
    facts = subscription_facts(subscription)
    if (
        row.stripe_subscription_id not in (None, facts["stripe_subscription_id"])
        and row.subscription_status in LIVE_STATUSES
        and facts["subscription_status"] not in LIVE_STATUSES
    ):
        return False
    for name, value in facts.items():
        setattr(row, name, value)
    if row.subscription_status in UNPAID_STATUSES:
        row.past_due_since = row.past_due_since or now
    else:
        row.past_due_since = None
    return True


def _live(row: TenantBilling) -> bool:
    return row.stripe_subscription_id is not None and row.subscription_status in LIVE_STATUSES


async def choose_plan(
    session: AsyncSession,
    billing: Billing,
    tenant_id: uuid.UUID,
    *,
    tenant_name: str,
    owner_email: str | None,
    plan: Plan,
    base_url: str,
) -> tuple[str | None, TenantBilling]:
    """Subscribe (a Checkout URL to send the owner to) or, with a live subscription,
    change its plan at once (no URL)."""
    if not plan.purchasable:
        raise BillingRefused(
            f"the plan {plan.key!r} is not sold; to leave a paid plan, cancel the "
            "subscription in the billing portal"
        )
    assert plan.stripe_price is not None
    row = await billing_row(session, tenant_id)
    if _live(row):
        assert row.stripe_subscription_id is not None
        if row.stripe_price == plan.stripe_price:
            raise BillingRefused(f"the workspace is already on the plan {plan.key!r}")
        current = await billing.stripe.subscription(row.stripe_subscription_id)
        changed = await billing.stripe.change_price(current, plan.stripe_price)
        apply_subscription(row, changed, utcnow())
        await session.commit()
        log.info("plan changed to %s", plan.key)
        return None, row
    if row.stripe_customer_id is None:
        row.stripe_customer_id = await billing.stripe.create_customer(
            tenant_id, tenant_name, owner_email
        )
        await session.commit()
    url = await billing.stripe.checkout(
        customer=row.stripe_customer_id,
        price=plan.stripe_price,
        trial_days=plan.trial_days,
        tenant_id=tenant_id,
        plan=plan.key,
        success_url=f"{base_url}/app/billing?checkout=done",
        cancel_url=f"{base_url}/app/billing?checkout=canceled",
    )
    return url, row


async def portal_url(
    session: AsyncSession, billing: Billing, tenant_id: uuid.UUID, base_url: str
) -> str:
    row = await session.get(TenantBilling, tenant_id)
    if row is None or row.stripe_customer_id is None:
        raise BillingRefused("the workspace has never subscribed: choose a plan first")
    return await billing.stripe.portal(
        customer=row.stripe_customer_id, return_url=f"{base_url}/app/billing"
    )
