"""`/healthz` (the process answers) and `/readyz` (it can do its work)."""

from __future__ import annotations

import logging

from fastapi import APIRouter, Response
from fastapi.responses import JSONResponse
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from sqlalchemy import func, select, text
from sqlalchemy.exc import SQLAlchemyError

from junction.api.deps import RuntimeDep
from junction.db.migrate import current_revisions, head_revisions
from junction.db.tenancy import cross_tenant
from junction.events.models import Event, EventStatus

log = logging.getLogger(__name__)

router = APIRouter(tags=["health"])


@router.get("/healthz", operation_id="health-alive")
async def healthz() -> dict[str, str]:
    return {"status": "ok"}


@router.get("/readyz", operation_id="health-ready")
async def readyz(runtime: RuntimeDep) -> JSONResponse:
    checks: dict[str, str] = {}
    try:
        async with runtime.engine.connect() as connection:
            await connection.execute(text("SELECT 1"))
            current = await current_revisions(connection)
        checks["database"] = "ok"
        heads = head_revisions()
        checks["migrations"] = "ok" if current == heads else "not at head: run `junction migrate`"
    except (SQLAlchemyError, OSError) as exc:
        log.warning("readiness: database unreachable: %s", type(exc).__name__)
        checks["database"] = "unreachable"
        checks["migrations"] = "unknown"
    checks["redis"] = "ok" if await runtime.queue.ping() else "unreachable"
    ready = all(value == "ok" for value in checks.values())
    return JSONResponse(
        {"status": "ready" if ready else "not_ready", "checks": checks},
        status_code=200 if ready else 503,
    )


@router.get("/metrics", operation_id="health-metrics", include_in_schema=False)
async def metrics(runtime: RuntimeDep) -> Response:
    """Prometheus text format."""
    snapshot = runtime.metrics.snapshot
    try:
        async with runtime.sessionmaker() as session:
            with cross_tenant(session, "metrics across tenants"):
                by_status = await session.execute(
                    select(Event.status, func.count()).group_by(Event.status)
                )
                snapshot.by_status = {status.value: count for status, count in by_status}
                in_flight = await session.execute(
                    select(Event.tenant_id, func.count())
                    .where(Event.status == EventStatus.processing)
                    .group_by(Event.tenant_id)
                )
                snapshot.in_flight = {str(tenant): count for tenant, count in in_flight}
    except (SQLAlchemyError, OSError) as exc:
        # No reading: the gauges disappear rather than repeat stale numbers.
        snapshot.by_status, snapshot.in_flight = {}, {}
        log.warning("metrics: database unreachable: %s", type(exc).__name__)
    return Response(generate_latest(runtime.metrics.registry), media_type=CONTENT_TYPE_LATEST)
