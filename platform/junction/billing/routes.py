"""`/api/billing` (the workspace's plan, usage, invoices, checkout and portal) and
`/billing/stripe/webhook` (Stripe's events)."""

from __future__ import annotations

import dataclasses
import logging
import uuid
from typing import Annotated, Any

from fastapi import APIRouter, Header, Query, Request
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from junction.api.deps import CallerDep, ManagerDep, RuntimeDep, SessionDep
from junction.api.errors import ApiError
from junction.audit import service as audit
from junction.billing.metering import BILLING_CAUSES
from junction.billing.models import BillingUsage, TenantBilling
from junction.billing.schemas import (
    BillingOut,
    InvoiceOut,
    PausedOut,
    PlanChoice,
    PlanChosen,
    PlanOut,
    PortalOut,
    PriceOut,
    SubscriptionOut,
    UsageOut,
)
from junction.billing.stripe_api import StripeUnavailable
from junction.billing.subscriptions import Billing, BillingRefused, choose_plan, moment, portal_url
from junction.billing.webhooks import WebhookRefused, receive, verified_event
from junction.db.base import utcnow
from junction.events.models import Event, EventStatus, PauseCause
from junction.runtime import Runtime
from junction.tenancy.models import Role, Tenant, User

log = logging.getLogger(__name__)

router = APIRouter(tags=["billing"])


def _billing(runtime: Runtime) -> Billing:
    if runtime.billing is None:
        raise ApiError(
            409,
            "billing_off",
            "billing is off on this installation (no Stripe key): every workspace is unlimited",
        )
    return runtime.billing


async def describe(session: AsyncSession, runtime: Runtime, tenant_id: uuid.UUID) -> BillingOut:
    """The workspace's plan, subscription, usage and paused events (session in its scope)."""
    counts = dict(
        (
            await session.execute(
                select(Event.pause_cause, func.count())
                .where(Event.status == EventStatus.paused, Event.pause_cause.in_(BILLING_CAUSES))
                .group_by(Event.pause_cause)
            )
        ).all()
    )
    paused = PausedOut(
        quota=counts.get(PauseCause.quota, 0), billing=counts.get(PauseCause.billing, 0)
    )
    billing = runtime.billing
    if billing is None:
        return BillingOut(enabled=False, paused_events=paused)
    row = await session.get(TenantBilling, tenant_id)
    now = utcnow()
    standing = billing.standing(row, now)
    used = await session.scalar(
        select(BillingUsage.used).where(BillingUsage.period_start == standing.period.start)
    )
    subscription = None
    if row is not None and row.stripe_subscription_id is not None:
        subscription = SubscriptionOut(
            status=row.subscription_status,
            period_start=row.period_start,
            period_end=row.period_end,
            cancel_at_period_end=row.cancel_at_period_end,
            grace_until=standing.grace_until,
        )
    return BillingOut(
        enabled=True,
        plan=PlanOut.of(standing.plan),
        source=standing.source,
        subscription=subscription,
        usage=UsageOut(
            period_start=standing.period.start,
            period_end=standing.period.end,
            used=used or 0,
            quota=standing.quota,
            remaining=standing.remaining(used or 0),
        ),
        blocked=standing.blocked,
        paused_events=paused,
    )


def _owner(caller: Any) -> None:
    if caller.role is not Role.owner:
        raise ApiError(403, "forbidden", "only the workspace's owners manage its subscription")


@router.get("/api/billing", operation_id="billing-get")
async def get_billing(caller: CallerDep, runtime: RuntimeDep, session: SessionDep) -> BillingOut:
    """The plan, the subscription, this period's usage, and the events billing paused."""
    return await describe(session, runtime, caller.tenant_id)


@router.get("/api/billing/plans", operation_id="billing-plans")
async def list_plans(caller: CallerDep, runtime: RuntimeDep) -> list[PlanOut]:
    """The plans on offer, with what Stripe charges for each."""
    billing = _billing(runtime)
    plans = billing.plans.plans
    prices = await billing.prices.prices([p.stripe_price for p in plans if p.stripe_price])
    listed = []
    for plan in plans:
        price = prices.get(plan.stripe_price) if plan.stripe_price else None
        out = PlanOut.of(plan)
        if price is not None:
            out.price = PriceOut(**dataclasses.asdict(price))
        listed.append(out)
    return listed


@router.post("/api/billing/plan", operation_id="billing-choose-plan")
async def choose(
    body: PlanChoice, caller: CallerDep, runtime: RuntimeDep, session: SessionDep
) -> PlanChosen:
    """Subscribe to a plan (answers a Stripe Checkout URL to pay at) or, with a
    subscription already, change its plan at once (prorated by Stripe). Owners only."""
    _owner(caller)
    billing = _billing(runtime)
    plan = billing.plans.find(body.plan)
    if plan is None:
        known = ", ".join(p.key for p in billing.plans.plans)
        raise ApiError(
            422, "unknown_plan", f"no plan {body.plan!r}; the plans: {known}", field="plan"
        )
    tenant = await session.get(Tenant, caller.tenant_id)
    assert tenant is not None
    before = billing.standing(await session.get(TenantBilling, caller.tenant_id), utcnow()).plan
    email = (
        await session.scalar(select(User.email).where(User.id == caller.user_id))
        if caller.user_id
        else None
    )
    try:
        url, _ = await choose_plan(
            session,
            billing,
            caller.tenant_id,
            tenant_name=tenant.name,
            owner_email=email,
            plan=plan,
            base_url=str(runtime.settings.public_base_url).rstrip("/"),
        )
    except BillingRefused as exc:
        raise ApiError(409, "refused", str(exc), field="plan") from None
    except StripeUnavailable as exc:
        raise ApiError(502, "stripe_unavailable", str(exc)) from None
    audit.record(
        session,
        caller.tenant_id,
        actor_type=caller.actor_type,
        actor_id=caller.actor_id,
        action="billing.checkout_started" if url else "billing.plan_changed",
        target_type="plan",
        target_id=plan.key,
        diff={"plan": {"from": before.key, "to": plan.key}},
    )
    await session.commit()
    return PlanChosen(checkout_url=url, billing=await describe(session, runtime, caller.tenant_id))


@router.post("/api/billing/portal", operation_id="billing-portal")
async def portal(caller: CallerDep, runtime: RuntimeDep, session: SessionDep) -> PortalOut:
    """A Stripe Customer Portal link: cards, invoices, cancelling. Owners only."""
    _owner(caller)
    billing = _billing(runtime)
    try:
        url = await portal_url(
            session, billing, caller.tenant_id, str(runtime.settings.public_base_url).rstrip("/")
        )
    except BillingRefused as exc:
        raise ApiError(409, "refused", str(exc)) from None
    except StripeUnavailable as exc:
        raise ApiError(502, "stripe_unavailable", str(exc)) from None
    return PortalOut(url=url)


@router.get("/api/billing/invoices", operation_id="billing-invoices")
async def invoices(
    caller: ManagerDep,
    runtime: RuntimeDep,
    session: SessionDep,
    limit: Annotated[int, Query(ge=1, le=100)] = 24,
) -> list[InvoiceOut]:
    """The workspace's invoices, newest first, as Stripe has them (owners and admins)."""
    billing = _billing(runtime)
    row = await session.get(TenantBilling, caller.tenant_id)
    if row is None or row.stripe_customer_id is None:
        return []
    try:
        found = await billing.stripe.invoices(row.stripe_customer_id, limit)
    except StripeUnavailable as exc:
        raise ApiError(502, "stripe_unavailable", str(exc)) from None
    return [
        InvoiceOut(
            id=invoice["id"],
            number=invoice.get("number"),
            status=invoice.get("status"),
            currency=invoice.get("currency"),
            amount_due=invoice.get("amount_due"),
            amount_paid=invoice.get("amount_paid"),
            created=moment(invoice.get("created")),
            period_start=moment(invoice.get("period_start")),
            period_end=moment(invoice.get("period_end")),
            hosted_invoice_url=invoice.get("hosted_invoice_url"),
            invoice_pdf=invoice.get("invoice_pdf"),
        )
        for invoice in found
    ]


@router.post("/billing/stripe/webhook", operation_id="billing-stripe-webhook")
async def stripe_webhook(
    request: Request,
    runtime: RuntimeDep,
    stripe_signature: Annotated[str | None, Header(alias="Stripe-Signature")] = None,
) -> dict[str, str]:
    """Stripe's events. Refused (400) unless signed with the endpoint's secret within
    300 seconds; each event is applied once."""
    if runtime.billing is None:
        raise ApiError(404, "billing_off", "billing is off on this installation")
    body = await request.body()
    secret = runtime.settings.stripe_webhook_secret.get_secret_value()
    try:
        event = verified_event(body, stripe_signature, secret)
    except WebhookRefused as exc:
        log.warning("Stripe webhook refused: %s", exc)
        raise ApiError(400, "bad_signature", str(exc)) from None
    try:
        outcome = await receive(runtime, runtime.billing, event)
    except StripeUnavailable as exc:
        # Not recorded: Stripe sends the event again later.
        raise ApiError(503, "stripe_unavailable", str(exc)) from None
    return {"received": event["id"], "outcome": outcome}
