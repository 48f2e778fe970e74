"""What Junction knows of each tenant's subscription and usage, and the Stripe events
it has applied."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from junction.db.base import Base, IdMixin, TenantScoped, TimestampMixin, utcnow


class TenantBilling(TenantScoped, TimestampMixin, Base):
    """One tenant's standing with Stripe: a copy of its subscription as Stripe last
    reported it, and a plan granted by staff, which outranks it."""

    __tablename__ = "tenant_billing"

    tenant_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("tenants.id", ondelete="CASCADE"), primary_key=True
    )
    # Created once per tenant, the first time it subscribes.
    stripe_customer_id: Mapped[str | None] = mapped_column(String(255), unique=True)
    stripe_subscription_id: Mapped[str | None] = mapped_column(String(255), index=True)
    # Stripe's word for it: trialing, active, past_due, unpaid, canceled, incomplete …
    subscription_status: Mapped[str | None] = mapped_column(String(32))
    stripe_price: Mapped[str | None] = mapped_column(String(255))
    period_start: Mapped[datetime | None]
    period_end: Mapped[datetime | None]
    cancel_at_period_end: Mapped[bool] = mapped_column(default=False)
    # When the subscription first went unpaid; the grace period counts from here.
    past_due_since: Mapped[datetime | None]
    # A plan staff gave by hand (a partner, a pilot); it wins over the subscription.
    granted_plan: Mapped[str | None] = mapped_column(String(40))
    granted_at: Mapped[datetime | None]


class BillingUsage(IdMixin, TenantScoped, Base):
    """Events processed in one billing period, and the quota warnings sent for it."""

    __tablename__ = "billing_usage"
    __table_args__ = (UniqueConstraint("tenant_id", "period_start"),)

    period_start: Mapped[datetime]
    period_end: Mapped[datetime]
    used: Mapped[int] = mapped_column(default=0)
    # The plan's quota as of the last event counted (None: unlimited); the warnings read it.
    quota: Mapped[int | None]
    warned_80_at: Mapped[datetime | None]
    warned_100_at: Mapped[datetime | None]
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class StripeEvent(Base):
    """A Stripe event already applied: a second delivery of it changes nothing."""

    __tablename__ = "stripe_events"

    id: Mapped[str] = mapped_column(String(255), primary_key=True)
    type: Mapped[str] = mapped_column(String(100))
    # The Stripe customer it concerned, if any (the platform's record, not a tenant's).
    customer: Mapped[str | None] = mapped_column(String(255), index=True)
    received_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
