"""arq jobs. They take ids, never objects, and re-enter the tenant's scope themselves."""

from __future__ import annotations

import uuid
from typing import Any

from junction.alerts.delivery import deliver_due, purge_old_alerts
from junction.alerts.raising import raise_due_alerts
from junction.billing.metering import resume_billing_paused
from junction.billing.quota_mail import send_quota_warnings
from junction.connections.health import check_due_connections, purge_old_checks
from junction.events.processing import process_event as run_event
from junction.events.retention import purge_expired_payloads
from junction.events.sweeper import resume_paused_events, sweep_due_events
from junction.runtime import Runtime


def _runtime(ctx: dict[str, Any]) -> Runtime:
    runtime: Runtime = ctx["runtime"]
    return runtime


async def process_event(ctx: dict[str, Any], tenant_id: str, event_id: str) -> str | None:
    status = await run_event(_runtime(ctx), uuid.UUID(tenant_id), uuid.UUID(event_id))
    return status.value if status is not None else None


async def sweep(ctx: dict[str, Any]) -> int:
    runtime = _runtime(ctx)
    await resume_paused_events(runtime)
    await resume_billing_paused(runtime)
    return await sweep_due_events(runtime)


async def purge_payloads(ctx: dict[str, Any]) -> int:
    runtime = _runtime(ctx)
    await purge_old_checks(runtime)
    await purge_old_alerts(runtime)
    return await purge_expired_payloads(runtime)


async def check_connections(ctx: dict[str, Any]) -> int:
    return await check_due_connections(_runtime(ctx))


async def send_alerts(ctx: dict[str, Any]) -> int:
    runtime = _runtime(ctx)
    await raise_due_alerts(runtime)
    await send_quota_warnings(runtime)
    return await deliver_due(runtime)
