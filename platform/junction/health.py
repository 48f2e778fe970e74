"""`/healthz` (the process answers) and `/readyz` (it can do its work)."""

from __future__ import annotations

import logging

from fastapi import APIRouter
from fastapi.responses import JSONResponse
from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError

from junction.api.deps import RuntimeDep
from junction.db.migrate import current_revisions, head_revisions

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
