"""The endpoints API: webhook URLs, token rotation with a grace period, the intake log."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta
from typing import Annotated

from fastapi import APIRouter, Query
from pydantic import BaseModel, ConfigDict, Field

from junction.api.deps import CallerDep, ManagerDep, RuntimeDep, SessionDep
from junction.api.errors import ApiError
from junction.intake import endpoints as service
from junction.intake.models import InboundEndpoint

router = APIRouter(prefix="/api/endpoints", tags=["endpoints"])

MAX_GRACE_SECONDS = 30 * 24 * 3600


class EndpointOut(BaseModel):
    id: uuid.UUID
    name: str
    source_format: str
    installation_id: uuid.UUID | None
    # The webhook URL; it carries the endpoint's secret token.
    url: str
    signed: bool
    previous_token_valid_until: datetime | None


class RotateRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    grace_seconds: int = Field(
        default=86400,
        ge=0,
        le=MAX_GRACE_SECONDS,
        description="How long the old URL keeps working (at most 30 days).",
    )


class RefusalOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    received_at: datetime
    status_code: int
    reason: str
    content_type: str
    size: int


async def _endpoint(session: SessionDep, endpoint_id: uuid.UUID) -> InboundEndpoint:
    endpoint = await service.get_endpoint(session, endpoint_id)
    if endpoint is None:
        raise ApiError(404, "not_found", "no such endpoint")
    return endpoint


def _out(endpoint: InboundEndpoint, url: str) -> EndpointOut:
    return EndpointOut(
        id=endpoint.id,
        name=endpoint.name,
        source_format=endpoint.source_format,
        installation_id=endpoint.installation_id,
        url=url,
        signed=endpoint.signing_secret_encrypted is not None,
        previous_token_valid_until=endpoint.previous_token_valid_until,
    )


@router.get("", operation_id="endpoints-list")
async def list_endpoints(
    caller: CallerDep, session: SessionDep, runtime: RuntimeDep
) -> list[EndpointOut]:
    """The tenant's endpoints with their webhook URLs."""
    base = str(runtime.settings.public_base_url)
    return [
        _out(endpoint, service.hook_url(base, runtime.secretbox.decrypt(endpoint.token_encrypted)))
        for endpoint in await service.list_endpoints(session)
    ]


@router.post("/{endpoint_id}/rotate-token", operation_id="endpoints-rotate-token")
async def rotate_token(
    endpoint_id: uuid.UUID,
    request: RotateRequest,
    caller: ManagerDep,
    session: SessionDep,
    runtime: RuntimeDep,
) -> EndpointOut:
    """A new webhook URL; the old one keeps working for the grace period."""
    endpoint = await _endpoint(session, endpoint_id)
    token, valid_until = await service.rotate_token(
        session, runtime.secretbox, endpoint, timedelta(seconds=request.grace_seconds)
    )
    caller.record(
        session,
        "endpoint.token_rotated",
        "endpoint",
        endpoint.id,
        {
            "previous_token_valid_until": {
                "from": None,
                "to": valid_until.isoformat() if valid_until else None,
            }
        },
    )
    await session.commit()
    # Other API processes notice within JUNCTION_ENDPOINT_CACHE_SECONDS.
    runtime.endpoint_routes.forget()
    return _out(endpoint, service.hook_url(str(runtime.settings.public_base_url), token))


@router.get("/{endpoint_id}/refusals", operation_id="endpoints-refusals")
async def refusals(
    endpoint_id: uuid.UUID,
    caller: CallerDep,
    session: SessionDep,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
) -> list[RefusalOut]:
    """Deliveries the endpoint refused, newest first (their content is not kept)."""
    await _endpoint(session, endpoint_id)
    return [
        RefusalOut.model_validate(row)
        for row in await service.list_refusals(session, endpoint_id, limit)
    ]
