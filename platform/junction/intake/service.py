"""Accepting a delivery: verify it, store it as an event, and say which event it is."""

from __future__ import annotations

import hashlib
import uuid
from dataclasses import dataclass
from typing import Any

from sqlalchemy import and_, or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from junction.db.base import utcnow
from junction.db.tenancy import cross_tenant, scope_to_tenant
from junction.events.models import Event
from junction.intake.models import InboundEndpoint, IntakeRefusal
from junction.intake.tokens import hash_endpoint_token
from junction.logs import bind_contextvars, context
from junction.plugins.interfaces import Delivery
from junction.plugins.registry import PluginError, PluginRegistry
from junction.secretbox import SecretBox
from junction.tenancy.models import Tenant, TenantStatus

MAX_KEY_LENGTH = 255
# Headers that carry credentials are never stored with the event.
_UNSTORED_HEADERS = frozenset(
    {"authorization", "cookie", "proxy-authorization", "x-api-key", "set-cookie"}
)


class IntakeError(Exception):
    def __init__(self, status_code: int, code: str, message: str) -> None:
        super().__init__(message)
        self.status_code = status_code
        self.code = code
        self.message = message


@dataclass(frozen=True)
class Accepted:
    event_id: uuid.UUID
    tenant_id: uuid.UUID
    endpoint_id: uuid.UUID
    created: bool


async def find_endpoint(session: AsyncSession, token: str) -> tuple[InboundEndpoint, Tenant]:
    token_hash = hash_endpoint_token(token)
    with cross_tenant(session, "webhook token lookup"):
        row = (
            await session.execute(
                select(InboundEndpoint, Tenant)
                .join(Tenant, Tenant.id == InboundEndpoint.tenant_id)
                .where(
                    or_(
                        InboundEndpoint.token_hash == token_hash,
                        # A rotated token keeps working through its grace period.
                        and_(
                            InboundEndpoint.previous_token_hash == token_hash,
                            InboundEndpoint.previous_token_valid_until > utcnow(),
                        ),
                    )
                )
            )
        ).first()
    # End the read transaction before writing: SQLite cannot turn a read snapshot into a
    # write once another process has committed.
    await session.commit()
    if row is None:
        raise IntakeError(404, "not_found", "no endpoint has this URL")
    endpoint, tenant = row
    if tenant.status is TenantStatus.deleted:
        raise IntakeError(410, "gone", "this endpoint's workspace has been deleted")
    return endpoint, tenant


def idempotency_key(source_key: str | None, body: bytes) -> str:
    if source_key:
        key = f"src:{source_key}"
        if len(key) <= MAX_KEY_LENGTH:
            return key
        return "src-sha256:" + hashlib.sha256(source_key.encode()).hexdigest()
    return "body-sha256:" + hashlib.sha256(body).hexdigest()


def stored_headers(headers: dict[str, str]) -> dict[str, Any]:
    return {name: value for name, value in headers.items() if name not in _UNSTORED_HEADERS}


async def accept_delivery(
    session: AsyncSession,
    registry: PluginRegistry,
    secretbox: SecretBox,
    token: str,
    delivery: Delivery,
) -> Accepted:
    endpoint, tenant = await find_endpoint(session, token)
    # Plain values: a rollback below expires the loaded rows.
    tenant_id, endpoint_id = tenant.id, endpoint.id
    scope_to_tenant(session, tenant_id)
    bind_contextvars(**context(tenant_id=tenant_id, endpoint_id=endpoint_id))
    try:
        source = registry.source(endpoint.source_format)
    except PluginError:
        # Not a problem with the delivery: ask the sender to retry once the plugin is back.
        raise IntakeError(
            503, "source_unavailable", "this endpoint's source format is not available now"
        ) from None
    if endpoint.signing_secret_encrypted is not None:
        secret = secretbox.decrypt(endpoint.signing_secret_encrypted)
        if not source.verify(delivery, secret):
            # Refused deliveries are kept in the endpoint's intake log (not their content).
            session.add(
                IntakeRefusal(
                    tenant_id=tenant_id,
                    endpoint_id=endpoint_id,
                    status_code=401,
                    reason="bad signature",
                    content_type=delivery.content_type[:255],
                    size=len(delivery.body),
                )
            )
            await session.commit()
            raise IntakeError(401, "bad_signature", "the delivery's signature is missing or wrong")

    key = idempotency_key(source.idempotency_key(delivery), delivery.body)
    event = Event(
        tenant_id=tenant_id,
        endpoint_id=endpoint_id,
        idempotency_key=key,
        content_type=delivery.content_type[:255],
        payload=delivery.payload,
        headers=stored_headers(dict(delivery.headers)),
    )
    session.add(event)
    try:
        await session.commit()
    except IntegrityError:
        await session.rollback()
        bind_contextvars(duplicate=True)
        existing = await session.scalar(
            select(Event.id).where(Event.tenant_id == tenant_id, Event.idempotency_key == key)
        )
        if existing is None:
            raise
        return Accepted(existing, tenant_id, endpoint_id, created=False)
    bind_contextvars(event_id=str(event.id))
    return Accepted(event.id, tenant_id, endpoint_id, created=True)
