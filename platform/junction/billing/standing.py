"""Where a tenant stands: its plan, its billing period, and whether billing stops its work.

Pure functions of what is stored and the time, so that the worker (admitting an event),
the sweeper (resuming paused ones) and the API (showing the tenant) all reach the same
answer.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from enum import StrEnum

from junction.billing.models import TenantBilling
from junction.billing.plans import Plan, Plans

# Stripe statuses in which the subscription still pays for its plan.
LIVE_STATUSES = ("trialing", "active", "past_due", "unpaid")
# Stripe statuses of a subscription whose payment has failed.
UNPAID_STATUSES = ("past_due", "unpaid")


class PlanSource(StrEnum):
    # No subscription: the free plan.
    free = "free"
    subscription = "subscription"
    # Given by staff.
    granted = "granted"


@dataclass(frozen=True)
class Period:
    start: datetime
    end: datetime


@dataclass(frozen=True)
class Standing:
    plan: Plan
    source: PlanSource
    period: Period
    # When the unpaid subscription stops working (None: it is paid, or there is none).
    grace_until: datetime | None
    # Why billing stops the tenant's work now, in words for the tenant (None: it does not).
    blocked: str | None

    @property
    def quota(self) -> int | None:
        return self.plan.monthly_events

    def remaining(self, used: int) -> int | None:
        """Events the period still allows; None: unlimited."""
        if self.quota is None:
            return None
        return max(self.quota - used, 0)


def calendar_month(now: datetime) -> Period:
    start = datetime(now.year, now.month, 1, tzinfo=UTC)
    end = datetime(now.year + (now.month == 12), now.month % 12 + 1, 1, tzinfo=UTC)
    return Period(start, end)


def _aware(moment: datetime) -> datetime:
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def subscription_period(start: datetime, end: datetime, now: datetime) -> Period:
    """The period Stripe reported, carried forward by its own length while Stripe's news of
    the renewal is on its way: a late webhook never holds a tenant's events in the old
    period's used-up quota."""
    start, end = _aware(start), _aware(end)
    length = end - start
    if length <= timedelta(0):
        return calendar_month(now)
    while end <= now:
        start, end = end, end + length
    return Period(start, end)


def standing_of(
    billing: TenantBilling | None, plans: Plans, now: datetime, grace: timedelta
) -> Standing:
    granted = plans.find(billing.granted_plan) if billing and billing.granted_plan else None
    live = billing is not None and billing.subscription_status in LIVE_STATUSES
    subscribed = plans.by_price(billing.stripe_price) if billing and live else None
    if granted is not None:
        plan, source = granted, PlanSource.granted
    elif subscribed is not None:
        plan, source = subscribed, PlanSource.subscription
    else:
        plan, source = plans.free_plan, PlanSource.free

    if (
        source is PlanSource.subscription
        and billing is not None
        and billing.period_start is not None
        and billing.period_end is not None
    ):
        period = subscription_period(billing.period_start, billing.period_end, now)
    else:
        period = calendar_month(now)

    grace_until = None
    blocked = None
    unpaid = billing is not None and billing.subscription_status in UNPAID_STATUSES
    if source is PlanSource.subscription and billing is not None and unpaid:
        since = _aware(billing.past_due_since or now)
        grace_until = since + grace
        if billing.subscription_status == "unpaid":
            blocked = "the subscription is unpaid: pay the open invoice to resume"
        elif now >= grace_until:
            blocked = (
                f"the subscription's payment failed and the grace period ended on "
                f"{grace_until:%Y-%m-%d %H:%M} UTC: pay the open invoice to resume"
            )
    return Standing(plan, source, period, grace_until, blocked)
