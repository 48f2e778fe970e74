"""`POST /hooks/{token}`: where shops deliver orders.

Deliveries are most of the API's traffic, so `IntakeDispatch` serves them ahead of the
router: a delivery costs no route matching, dependency solving or exception middleware.
The route stays declared on the router, with the same handler, so the OpenAPI schema
documents it and other methods on the path get 405.
"""

from __future__ import annotations

import logging

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from sqlalchemy.exc import SQLAlchemyError
from starlette.requests import ClientDisconnect
from starlette.types import ASGIApp, Receive, Scope, Send

from junction.api.deps import runtime_of
from junction.api.errors import ApiError, error_body
from junction.intake.parsing import BodyError, parse_body
from junction.intake.service import IntakeError, accept_delivery
from junction.plugins.interfaces import Delivery

log = logging.getLogger(__name__)

router = APIRouter(tags=["intake"])


async def read_body(request: Request, limit: int) -> bytes:
    too_large = ApiError(
        413, "payload_too_large", f"the body is larger than the limit of {limit} bytes"
    )
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > limit:
        raise too_large
    chunks: list[bytes] = []
    size = 0
    try:
        async for chunk in request.stream():
            size += len(chunk)
            if size > limit:
                raise too_large
            chunks.append(chunk)
    except ClientDisconnect:
        # The sender went away mid-body: nothing was stored, and nobody awaits an answer.
        raise ApiError(400, "client_disconnected", "the body was not received in full") from None
    return b"".join(chunks)


@router.post(
    "/hooks/{token}",
    operation_id="intake-deliver",
    status_code=202,
    responses={
        200: {"description": "A repeat of an accepted delivery, or a platform's check (a ping)"}
    },
)
async def deliver(
    token: str,
    request: Request,
) -> JSONResponse:
    """Store a delivery as an event (202), or name the event it repeats (200)."""
    # No dependencies to solve and no session unless one is needed: this is the hot path.
    try:
        return await _deliver(token, request)
    except ApiError as exc:
        return JSONResponse(
            error_body(exc.code, exc.message, exc.field),
            status_code=exc.status_code,
            headers=exc.headers,
        )


async def _deliver(token: str, request: Request) -> JSONResponse:
    runtime = runtime_of(request)
    body = await read_body(request, runtime.settings.max_body_bytes)
    content_type = request.headers.get("content-type", "")
    try:
        payload = parse_body(body, content_type)
    except BodyError as exc:
        raise ApiError(400, "invalid_body", str(exc)) from None
    delivery = Delivery(
        body=body,
        content_type=content_type,
        headers={name.lower(): value for name, value in request.headers.items()},
        payload=payload,
    )
    try:
        accepted = await accept_delivery(
            runtime.sessionmaker,
            runtime.registry,
            runtime.secretbox,
            runtime.endpoint_routes,
            runtime.event_writer,
            token,
            delivery,
        )
    except IntakeError as exc:
        raise ApiError(exc.status_code, exc.code, exc.message) from None
    except (SQLAlchemyError, OSError) as exc:
        # Unreachable, out of connections, failing: the shop must retry, nothing was kept.
        log.error("intake could not store a delivery: %s", type(exc).__name__)
        raise ApiError(
            503,
            "unavailable",
            "the delivery could not be stored; retry later",
            headers={"Retry-After": "30"},
        ) from None
    if accepted.acknowledged is not None:
        runtime.metrics.events_received.labels("acknowledged").inc()
        return JSONResponse({"acknowledged": accepted.acknowledged}, status_code=200)
    assert accepted.event_id is not None
    runtime.metrics.events_received.labels("accepted" if accepted.created else "duplicate").inc()
    if accepted.created:
        runtime.queue.enqueue_soon(accepted.tenant_id, accepted.event_id)
        return JSONResponse(
            {"event_id": str(accepted.event_id), "duplicate": False}, status_code=202
        )
    return JSONResponse({"event_id": str(accepted.event_id), "duplicate": True}, status_code=200)


class _IntakeRoute:
    """What the access log reads off a request's route: its template, never the token."""

    path = "/hooks/{token}"


_ROUTE = _IntakeRoute()
_PREFIX = "/hooks/"


class IntakeDispatch:
    """Serve `POST /hooks/{token}` directly; pass everything else to the application."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["method"] == "POST":
            path: str = scope["path"]
            token = path[len(_PREFIX) :]
            if path.startswith(_PREFIX) and token and "/" not in token:
                scope["route"] = _ROUTE
                response = await deliver(token, Request(scope, receive))
                await response(scope, receive, send)
                return
        await self.app(scope, receive, send)
