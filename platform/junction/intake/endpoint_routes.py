"""The endpoints API: webhook URLs, token rotation with a grace period, the intake log."""

from __future__ import annotations

import secrets
import uuid
from datetime import datetime, timedelta
from typing import Annotated

from fastapi import APIRouter, Query
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import select

from junction.api.deps import CallerDep, ManagerDep, RuntimeDep, SessionDep
from junction.api.errors import ApiError
from junction.intake import endpoints as service
from junction.intake.models import InboundEndpoint
from junction.intake.parsing import parse_body
from junction.intake.service import store_delivery
from junction.intake.tokens import new_signing_secret
from junction.plugins.described import Described, source_words
from junction.plugins.interfaces import Delivery, Source
from junction.plugins.models import PluginInstallation
from junction.plugins.registry import PluginError

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


class EndpointIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1, max_length=200)
    # A source a plugin contributes (`GET /api/endpoints/formats`).
    source_format: str = Field(min_length=1, max_length=64)
    # The installed plugin its events go to.
    installation_id: uuid.UUID | None = None


class SampleOut(BaseModel):
    # The body as the platform sends it, and its Content-Type.
    body: str
    content_type: str


class FormatOut(Described):
    name: str
    # An order as this format's platform sends it (order id 1001); null: none offered.
    sample: SampleOut | None = None


class TestOrderOut(BaseModel):
    event_id: uuid.UUID
    order_id: str


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


@router.get("/formats", operation_id="endpoints-formats")
async def formats(caller: CallerDep, runtime: RuntimeDep) -> list[FormatOut]:
    """The shop formats an endpoint can read, as the installed plugins provide them."""
    return [
        FormatOut(name=name, sample=_sample(source), **source_words(source))
        for name, source in sorted(runtime.registry.sources.items())
    ]


def _sample(source: Source, order_id: str = "1001") -> SampleOut | None:
    sample = source.sample(order_id)
    if sample is None:
        return None
    return SampleOut(body=sample.body.decode(), content_type=sample.content_type)


@router.post("/{endpoint_id}/test-order", status_code=202, operation_id="endpoints-test-order")
async def test_order(
    endpoint_id: uuid.UUID, caller: ManagerDep, session: SessionDep, runtime: RuntimeDep
) -> TestOrderOut:
    """Send the format's sample order to the endpoint, as if the shop had: it is stored and
    processed like any delivery (a new order id each time, so never taken for a repeat)."""
    endpoint = await _endpoint(session, endpoint_id)
    await session.commit()
    try:
        source = runtime.registry.source(endpoint.source_format)
    except PluginError:
        raise ApiError(
            409, "source_unavailable", f"the format {endpoint.source_format!r} is not available"
        ) from None
    order_id = f"T{secrets.randbelow(10**9):09d}"
    sample = source.sample(order_id)
    if sample is None:
        raise ApiError(
            409, "no_sample", f"the format {endpoint.source_format!r} has no sample order"
        )
    route = await runtime.endpoint_routes.find(endpoint.token_hash)
    if route is None:
        raise ApiError(404, "not_found", "no such endpoint")
    delivery = Delivery(
        body=sample.body,
        content_type=sample.content_type,
        headers={"content-type": sample.content_type},
        payload=parse_body(sample.body, sample.content_type),
    )
    accepted = await store_delivery(
        runtime.sessionmaker,
        runtime.registry,
        runtime.secretbox,
        runtime.event_writer,
        route,
        delivery,
        from_member=True,
    )
    assert accepted.event_id is not None
    if accepted.created:
        runtime.queue.enqueue_soon(accepted.tenant_id, accepted.event_id)
    return TestOrderOut(event_id=accepted.event_id, order_id=order_id)


@router.post("", status_code=201, operation_id="endpoints-create")
async def create_endpoint(
    body: EndpointIn, caller: ManagerDep, session: SessionDep, runtime: RuntimeDep
) -> EndpointOut:
    """A new webhook URL for a shop, routed to one of the workspace's installed plugins."""
    if body.source_format not in runtime.registry.sources:
        known = ", ".join(sorted(runtime.registry.sources))
        raise ApiError(
            422,
            "unknown_format",
            f"no source format {body.source_format!r}; known: {known}",
            field="source_format",
        )
    if body.installation_id is not None:
        installed = await session.scalar(
            select(PluginInstallation.id).where(PluginInstallation.id == body.installation_id)
        )
        if installed is None:
            raise ApiError(
                422, "unknown_installation", "no such installation", field="installation_id"
            )
    endpoint, token = await service.create_endpoint(
        session,
        runtime.secretbox,
        caller.tenant_id,
        body.name,
        body.source_format,
        body.installation_id,
    )
    caller.record(
        session,
        "endpoint.created",
        "endpoint",
        endpoint.id,
        {
            "name": {"from": None, "to": body.name},
            "source_format": {"from": None, "to": body.source_format},
        },
    )
    await session.commit()
    return _out(endpoint, service.hook_url(str(runtime.settings.public_base_url), token))


class SecretIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    # False: deliveries are no longer checked for a signature.
    enabled: bool = True


class SecretOut(BaseModel):
    # The secret the shop signs its deliveries with; null: they are not checked.
    secret: str | None


@router.get("/{endpoint_id}/signing-secret", operation_id="endpoints-signing-secret")
async def signing_secret(
    endpoint_id: uuid.UUID, caller: ManagerDep, session: SessionDep, runtime: RuntimeDep
) -> SecretOut:
    """Reveal the secret the shop signs deliveries with (owners and admins; audited)."""
    endpoint = await _endpoint(session, endpoint_id)
    secret = endpoint.signing_secret_encrypted
    caller.record(session, "endpoint.secret_revealed", "endpoint", endpoint.id, {})
    await session.commit()
    return SecretOut(secret=runtime.secretbox.decrypt(secret) if secret else None)


@router.post("/{endpoint_id}/signing-secret", operation_id="endpoints-rotate-secret")
async def rotate_secret(
    endpoint_id: uuid.UUID,
    body: SecretIn,
    caller: ManagerDep,
    session: SessionDep,
    runtime: RuntimeDep,
) -> SecretOut:
    """A new signing secret (shown this once here; set it in the shop at the same time,
    since deliveries signed with the old one are refused from now on), or none."""
    endpoint = await _endpoint(session, endpoint_id)
    secret = new_signing_secret() if body.enabled else None
    before = endpoint.signing_secret_encrypted is not None
    endpoint.signing_secret_encrypted = runtime.secretbox.encrypt(secret) if secret else None
    caller.record(
        session,
        "endpoint.secret_rotated" if secret else "endpoint.secret_removed",
        "endpoint",
        endpoint.id,
        {"signed": {"from": before, "to": secret is not None}},
    )
    await session.commit()
    runtime.endpoint_routes.forget()
    return SecretOut(secret=secret)


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
