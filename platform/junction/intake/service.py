"""Accepting a delivery: verify it, store it as an event, and say which event it is."""

from __future__ import annotations

import hashlib
import uuid
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from junction.db.tenancy import scope_to_tenant
from junction.events.models import Event
from junction.intake.models import IntakeRefusal
from junction.intake.routing import EndpointRoute, EndpointRoutes
from junction.intake.tokens import hash_endpoint_token
from junction.intake.writer import EventWriter
from junction.logs import bind_contextvars, context
from junction.plugins.interfaces import Delivery
from junction.plugins.registry import PluginError, PluginRegistry
from junction.secretbox import SecretBox

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
    event_id: uuid.UUID | None
    tenant_id: uuid.UUID
    endpoint_id: uuid.UUID
    created: bool
    # Set when the delivery was a platform's check, answered and not stored.
    acknowledged: str | None = None


def idempotency_key(source_key: str | None, body: bytes) -> str:
    if source_key:
        key = f"src:{source_key}"
        if len(key) <= MAX_KEY_LENGTH:
            return key
        return "src-sha256:" + hashlib.sha256(source_key.encode()).hexdigest()
    return "body-sha256:" + hashlib.sha256(body).hexdigest()


def stored_headers(headers: dict[str, str], secret: frozenset[str]) -> dict[str, Any]:
    return {
        name: value
        for name, value in headers.items()
        if name not in _UNSTORED_HEADERS and name not in secret
    }


def stored_payload(payload: Any, secret: frozenset[str]) -> Any:
    if secret and isinstance(payload, dict):
        return {key: value for key, value in payload.items() if key not in secret}
    return payload


async def accept_delivery(
    sessionmaker: async_sessionmaker[AsyncSession],
    registry: PluginRegistry,
    secretbox: SecretBox,
    routes: EndpointRoutes,
    writer: EventWriter,
    token: str,
    delivery: Delivery,
) -> Accepted:
    """A delivery to a webhook URL, stored as its endpoint's event."""
    route = await routes.find(hash_endpoint_token(token))
    if route is None:
        raise IntakeError(404, "not_found", "no endpoint has this URL")
    if route.tenant_deleted:
        raise IntakeError(410, "gone", "this endpoint's workspace has been deleted")
    return await store_delivery(sessionmaker, registry, secretbox, writer, route, delivery)


async def store_delivery(
    sessionmaker: async_sessionmaker[AsyncSession],
    registry: PluginRegistry,
    secretbox: SecretBox,
    writer: EventWriter,
    route: EndpointRoute,
    delivery: Delivery,
    *,
    from_member: bool = False,
) -> Accepted:
    """Store a delivery for `route`'s endpoint. A signing secret is checked unless the
    delivery is a test order a signed-in member sent from the endpoint's page (the shop's
    signature is not theirs to make)."""
    tenant_id, endpoint_id = route.tenant_id, route.endpoint_id
    bind_contextvars(**context(tenant_id=tenant_id, endpoint_id=endpoint_id))
    try:
        source = registry.source(route.source_format)
    except PluginError:
        # Not a problem with the delivery: ask the sender to retry once the plugin is back.
        raise IntakeError(
            503, "source_unavailable", "this endpoint's source format is not available now"
        ) from None
    check = source.acknowledge(delivery)
    if check is not None:
        return Accepted(None, tenant_id, endpoint_id, created=False, acknowledged=check)
    if route.signing_secret_encrypted is not None and not from_member:
        secret = secretbox.decrypt(route.signing_secret_encrypted)
        if not source.verify(delivery, secret):
            # Refused deliveries are kept in the endpoint's intake log (not their content).
            async with sessionmaker() as session:
                scope_to_tenant(session, tenant_id)
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
    created = await writer.insert(
        dict(
            tenant_id=tenant_id,
            endpoint_id=endpoint_id,
            idempotency_key=key,
            content_type=delivery.content_type[:255],
            payload=stored_payload(delivery.payload, source.secret_fields),
            headers=stored_headers(dict(delivery.headers), source.secret_headers),
        )
    )
    if created is not None:
        bind_contextvars(event_id=str(created))
        return Accepted(created, tenant_id, endpoint_id, created=True)
    bind_contextvars(duplicate=True)
    async with sessionmaker() as session:
        scope_to_tenant(session, tenant_id)
        existing = await session.scalar(
            select(Event.id).where(Event.tenant_id == tenant_id, Event.idempotency_key == key)
        )
    if existing is None:
        # The first delivery's event was deleted in between: nothing to answer with.
        raise IntakeError(409, "conflict", "a repeat of this delivery is being settled; retry")
    return Accepted(existing, tenant_id, endpoint_id, created=False)
