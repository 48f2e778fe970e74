"""Counting events against the plan, in the worker's claim, and resuming what waited.

An event counts once, the first time a worker takes it to process (`Event.billed_at`);
its retries and replays are free. Past the quota, or when billing stops the tenant,
the event is paused, never dropped, and the sweeper resumes paused events, oldest first
and no more than the quota has room for, once an upgrade, a paid invoice or a new
period allows them.

The count is exact under concurrent workers: the claim's transaction updates the
period's usage row first (which holds it, on PostgreSQL, or the database, on SQLite,
until the claim commits) and reads the count the update returned.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from sqlalchemy import and_, case, or_, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncSession

from junction.billing.models import BillingUsage, TenantBilling
from junction.billing.standing import Standing
from junction.billing.subscriptions import Billing
from junction.db.base import utcnow
from junction.db.tenancy import cross_tenant, scope_to_tenant
from junction.events.models import Event, EventStatus, PauseCause
from junction.intake.models import InboundEndpoint
from junction.plugins.models import PluginInstallation
from junction.runtime import Runtime

BILLING_CAUSES = (PauseCause.quota, PauseCause.billing)


@dataclass(frozen=True)
class Admission:
    """What billing lets one claim do."""

    # Paused, and why (None: admitted).
    cause: PauseCause | None = None
    message: str | None = None
    # New events the claim may still count after its first one; None: unlimited.
    remaining: int | None = None
    usage_id: uuid.UUID | None = None


def quota_message(standing: Standing, used: int) -> str:
    plan = standing.plan
    return (
        f"the {plan.name} plan's {plan.monthly_events} events for the period "
        f"{standing.period.start:%Y-%m-%d} – {standing.period.end:%Y-%m-%d} are used "
        f"({used}): upgrade the plan, or the events resume when the next period starts"
    )


def plugin_message(standing: Standing, plugin: str) -> str:
    return (
        f"the {standing.plan.name} plan does not include the plugin {plugin!r}: "
        "change the plan to process these events"
    )


async def _add_first(
    session: AsyncSession, tenant_id: uuid.UUID, standing: Standing, first_is_new: bool
) -> tuple[uuid.UUID, int] | None:
    """Count the claim's first event in the period's usage row (made on the period's first
    event). Returns the row and its count, or None when a new event finds the quota used
    up. One statement in the usual case; it holds the row until the claim commits."""
    conditions = [
        BillingUsage.tenant_id == tenant_id,
        BillingUsage.period_start == standing.period.start,
    ]
    if first_is_new and standing.quota is not None:
        conditions.append(BillingUsage.used < standing.quota)
    add = (
        update(BillingUsage)
        .where(*conditions)
        .values(
            used=BillingUsage.used + int(first_is_new), quota=standing.quota, updated_at=utcnow()
        )
        .returning(BillingUsage.id, BillingUsage.used)
    )
    counted = (await session.execute(add)).first()
    if counted is not None:
        return counted.id, counted.used
    dialect = session.get_bind().dialect.name
    upsert = pg_insert if dialect == "postgresql" else sqlite_insert
    # Not counted: no row yet for the period (made now, or by another worker meanwhile), or
    # the quota is used up. Counting again after making sure of the row tells which.
    await session.execute(
        upsert(BillingUsage)
        .values(
            id=uuid.uuid4(),
            tenant_id=tenant_id,
            period_start=standing.period.start,
            period_end=standing.period.end,
            used=0,
            quota=standing.quota,
            updated_at=utcnow(),
        )
        .on_conflict_do_nothing(index_elements=["tenant_id", "period_start"])
    )
    counted = (await session.execute(add)).first()
    return (counted.id, counted.used) if counted is not None else None


async def admit(
    session: AsyncSession,
    billing: Billing,
    tenant_id: uuid.UUID,
    plugin: str,
    first_is_new: bool,
) -> Admission:
    """Decide, inside the claim's transaction, whether its first event may run, and count
    it when it is new."""
    standing = billing.standing(await session.get(TenantBilling, tenant_id), utcnow())
    if standing.blocked:
        return Admission(PauseCause.billing, standing.blocked)
    if not standing.plan.allows(plugin):
        return Admission(PauseCause.billing, plugin_message(standing, plugin))
    counted = await _add_first(session, tenant_id, standing, first_is_new)
    quota = standing.quota
    if counted is None:
        assert quota is not None
        return Admission(PauseCause.quota, quota_message(standing, quota))
    usage_id, used = counted
    remaining = None if quota is None else max(quota - used, 0)
    return Admission(remaining=remaining, usage_id=usage_id)


async def count(
    session: AsyncSession, admission: Admission, events: list[Event], first_is_new: bool
) -> None:
    """Mark the claim's new events counted: the first (already added in `admit`) and the
    batch's companions (added now; `admit`'s update still holds the row)."""
    new = [event.id for event in events if event.billed_at is None]
    if not new or admission.usage_id is None:
        return
    now = utcnow()
    await session.execute(
        update(Event)
        .where(Event.id.in_(new))
        .values(billed_at=now)
        .execution_options(synchronize_session=False)
    )
    extra = len(new) - int(first_is_new)
    if extra:
        await session.execute(
            update(BillingUsage)
            .where(BillingUsage.id == admission.usage_id)
            .values(used=BillingUsage.used + extra)
        )


async def resume_billing_paused(runtime: Runtime) -> int:
    """Make due again the events billing paused that may run now, oldest first, as many
    as each tenant's quota has room for. With billing off, all of them."""
    async with runtime.sessionmaker() as session:
        with cross_tenant(session, "billing: tenants with paused events"):
            tenants = list(
                await session.scalars(
                    select(Event.tenant_id)
                    .where(
                        Event.status == EventStatus.paused, Event.pause_cause.in_(BILLING_CAUSES)
                    )
                    .distinct()
                )
            )
    resumed = 0
    for tenant_id in tenants:
        resumed += await _resume_tenant(runtime, tenant_id)
    return resumed


async def _resume_tenant(runtime: Runtime, tenant_id: uuid.UUID) -> int:
    billing = runtime.billing
    now = utcnow()
    async with runtime.sessionmaker() as session:
        scope_to_tenant(session, tenant_id)
        paused = and_(
            Event.tenant_id == tenant_id,
            Event.status == EventStatus.paused,
            Event.pause_cause.in_(BILLING_CAUSES),
        )
        conditions = [paused]
        if billing is not None:
            standing = billing.standing(await session.get(TenantBilling, tenant_id), now)
            if standing.blocked:
                return 0
            if standing.plan.plugins is not None:
                conditions.append(
                    Event.endpoint_id.in_(
                        select(InboundEndpoint.id)
                        .join(
                            PluginInstallation,
                            PluginInstallation.id == InboundEndpoint.installation_id,
                        )
                        .where(PluginInstallation.plugin.in_(standing.plan.plugins))
                    )
                )
            if standing.quota is not None:
                used = await session.scalar(
                    select(BillingUsage.used).where(
                        BillingUsage.tenant_id == tenant_id,
                        BillingUsage.period_start == standing.period.start,
                    )
                )
                room = standing.remaining(used or 0) or 0
                oldest_new = (
                    select(Event.id)
                    .where(paused, Event.billed_at.is_(None))
                    .order_by(Event.received_at, Event.id)
                    .limit(room)
                )
                # Retries and replays of counted events cost nothing: they need no room.
                conditions.append(or_(Event.billed_at.is_not(None), Event.id.in_(oldest_new)))
        # Due again at the time each was received (never later than now): every claim
        # takes the oldest first.
        result = await session.execute(
            update(Event)
            .where(*conditions)
            .values(
                status=EventStatus.retrying,
                next_attempt_at=case((Event.received_at < now, Event.received_at), else_=now),
                pause_cause=None,
                updated_at=now,
            )
            .execution_options(synchronize_session=False)
        )
        await session.commit()
    return int(result.rowcount)  # type: ignore[attr-defined]
