"""What the billing API takes and returns."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field

from junction.billing.plans import Plan
from junction.billing.standing import PlanSource


class PriceOut(BaseModel):
    # In the currency's smallest unit (cents), as Stripe gives it.
    amount: int
    currency: str
    # Paid every `interval_count` `interval`s (day, week, month, year).
    interval: str
    interval_count: int


class PlanOut(BaseModel):
    key: str
    name: str
    # What Stripe charges for it; null for the free plan, or when Stripe could not be read.
    price: PriceOut | None = None
    # Events per billing period; null: unlimited.
    monthly_events: int | None
    # Plugins the plan allows; null: all of them.
    plugins: list[str] | None
    trial_days: int
    # Whether it can be bought (the free plan cannot).
    purchasable: bool

    @classmethod
    def of(cls, plan: Plan) -> PlanOut:
        return cls(
            key=plan.key,
            name=plan.name,
            monthly_events=plan.monthly_events,
            plugins=list(plan.plugins) if plan.plugins is not None else None,
            trial_days=plan.trial_days,
            purchasable=plan.purchasable,
        )


class SubscriptionOut(BaseModel):
    # Stripe's status: trialing, active, past_due, unpaid, canceled, incomplete …
    status: str | None
    period_start: datetime | None
    period_end: datetime | None
    cancel_at_period_end: bool
    # When an unpaid subscription's events pause (null: it is paid).
    grace_until: datetime | None


class UsageOut(BaseModel):
    period_start: datetime
    period_end: datetime
    used: int
    # Null: unlimited.
    quota: int | None
    remaining: int | None


class PausedOut(BaseModel):
    quota: int
    billing: int


class BillingOut(BaseModel):
    # False: this installation has no Stripe key; every workspace is unlimited.
    enabled: bool
    plan: PlanOut | None = None
    # Where the plan comes from: `free` (no subscription), `subscription`, `granted` (staff).
    source: PlanSource | None = None
    subscription: SubscriptionOut | None = None
    usage: UsageOut | None = None
    # Why billing stops this workspace's events now (null: it does not).
    blocked: str | None = None
    paused_events: PausedOut


class PlanChoice(BaseModel):
    model_config = ConfigDict(extra="forbid")

    plan: str = Field(min_length=1, max_length=40)


class PlanChosen(BaseModel):
    # Where to send the owner to pay (a new subscription); null: the plan changed at once.
    checkout_url: str | None
    billing: BillingOut


class PortalOut(BaseModel):
    url: str


class InvoiceOut(BaseModel):
    id: str
    number: str | None
    status: str | None
    currency: str | None
    # In the currency's smallest unit, as Stripe gives it.
    amount_due: int | None
    amount_paid: int | None
    created: datetime | None
    period_start: datetime | None
    period_end: datetime | None
    hosted_invoice_url: str | None
    invoice_pdf: str | None


class GrantIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    # A plan's key, or null to take a granted plan back.
    plan: str | None = Field(default=None, min_length=1, max_length=40)
    reason: str = Field(min_length=3, max_length=500)
