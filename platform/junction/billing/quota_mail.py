"""Telling a tenant's owners by email when 80% and when 100% of the quota is used.

Each warning is sent once per billing period: the usage row records it once the mail
server took the message, so a mail server that is down only delays it to the next run.
"""

from __future__ import annotations

import logging
import uuid

from sqlalchemy import and_, or_, select, update

from junction.accounts.mail import MailError
from junction.billing.models import BillingUsage
from junction.db.base import utcnow
from junction.db.tenancy import cross_tenant, scope_to_tenant
from junction.members.service import owner_emails
from junction.runtime import Runtime
from junction.tenancy.models import Tenant

log = logging.getLogger(__name__)

BATCH = 200


def _due() -> object:
    quota = BillingUsage.quota
    return and_(
        quota.is_not(None),
        or_(
            and_(BillingUsage.warned_100_at.is_(None), BillingUsage.used >= quota),
            and_(BillingUsage.warned_80_at.is_(None), BillingUsage.used * 5 >= quota * 4),
        ),
    )


async def send_quota_warnings(runtime: Runtime) -> int:
    """Send the warnings that are due; returns how many tenants were warned."""
    if runtime.billing is None or not runtime.mailer.configured:
        return 0
    now = utcnow()
    async with runtime.sessionmaker() as session:
        with cross_tenant(session, "billing: quota warnings due"):
            due = (
                await session.execute(
                    select(BillingUsage.id, BillingUsage.tenant_id)
                    .where(_due(), BillingUsage.period_end > now)  # type: ignore[arg-type]
                    .limit(BATCH)
                )
            ).all()
    warned = 0
    for usage_id, tenant_id in due:
        warned += await _warn(runtime, tenant_id, usage_id)
    return warned


async def _warn(runtime: Runtime, tenant_id: uuid.UUID, usage_id: uuid.UUID) -> int:
    async with runtime.sessionmaker() as session:
        scope_to_tenant(session, tenant_id)
        usage = await session.get(BillingUsage, usage_id)
        tenant = await session.get(Tenant, tenant_id)
        if usage is None or tenant is None or usage.quota is None:
            return 0
        full = usage.used >= usage.quota
        subject, body = _message(tenant, usage, full)
        owners = await owner_emails(session)
        try:
            for owner in owners:
                await runtime.mailer.send(owner, subject, body)
        except MailError as exc:
            log.warning("quota warning for %s not sent, tried again later: %s", tenant.slug, exc)
            return 0
        now = utcnow()
        values = {"warned_80_at": usage.warned_80_at or now}
        if full:
            values["warned_100_at"] = now
        await session.execute(
            update(BillingUsage).where(BillingUsage.id == usage_id).values(**values)
        )
        await session.commit()
        return 1


def _message(tenant: Tenant, usage: BillingUsage, full: bool) -> tuple[str, str]:
    assert usage.quota is not None
    period = f"{usage.period_start:%Y-%m-%d} – {usage.period_end:%Y-%m-%d}"
    if full:
        return (
            f"[Junction] {tenant.name}: the plan's events are used up",
            f"The workspace {tenant.name} ({tenant.slug}) has used all {usage.quota} events "
            f"of its plan for {period}.\n\n"
            "New orders are still accepted and stored, none is lost: they wait, paused, "
            "and are processed in the order they came as soon as the plan is upgraded or "
            f"the next period starts ({usage.period_end:%Y-%m-%d}).\n\n"
            "Upgrade the plan in Junction under Billing.",
        )
    return (
        f"[Junction] {tenant.name}: 80% of the plan's events used",
        f"The workspace {tenant.name} ({tenant.slug}) has used {usage.used} of its "
        f"{usage.quota} events for {period}.\n\n"
        "Once they are all used, new orders wait (stored, not lost) until the plan is "
        "upgraded or the next period starts. Upgrade the plan in Junction under Billing.",
    )
