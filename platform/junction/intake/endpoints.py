"""Managing a tenant's endpoints: their URLs, token rotation, their intake log."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from junction.db.base import utcnow
from junction.intake.models import InboundEndpoint, IntakeRefusal
from junction.intake.tokens import hash_endpoint_token, new_endpoint_token
from junction.secretbox import SecretBox


def hook_url(base_url: str, token: str) -> str:
    return f"{base_url.rstrip('/')}/hooks/{token}"


async def list_endpoints(session: AsyncSession) -> list[InboundEndpoint]:
    return list(
        (await session.scalars(select(InboundEndpoint).order_by(InboundEndpoint.name))).all()
    )


async def get_endpoint(session: AsyncSession, endpoint_id: uuid.UUID) -> InboundEndpoint | None:
    return await session.scalar(select(InboundEndpoint).where(InboundEndpoint.id == endpoint_id))


async def create_endpoint(
    session: AsyncSession,
    secretbox: SecretBox,
    tenant_id: uuid.UUID,
    name: str,
    source_format: str,
    installation_id: uuid.UUID | None,
) -> tuple[InboundEndpoint, str]:
    """A new endpoint with a fresh token; returns it and the token (for its URL)."""
    token = new_endpoint_token()
    endpoint = InboundEndpoint(
        tenant_id=tenant_id,
        name=name,
        source_format=source_format,
        installation_id=installation_id,
        token_hash=hash_endpoint_token(token),
        token_encrypted=secretbox.encrypt(token),
    )
    session.add(endpoint)
    await session.flush()
    return endpoint, token


async def rotate_token(
    session: AsyncSession, secretbox: SecretBox, endpoint: InboundEndpoint, grace: timedelta
) -> tuple[str, datetime | None]:
    """Give the endpoint a new token; the current one keeps working for `grace`.

    Returns the new token and until when the old one is accepted (None: not at all).
    """
    token = new_endpoint_token()
    valid_until = utcnow() + grace if grace > timedelta(0) else None
    endpoint.previous_token_hash = endpoint.token_hash if valid_until else None
    endpoint.previous_token_valid_until = valid_until
    endpoint.token_hash = hash_endpoint_token(token)
    endpoint.token_encrypted = secretbox.encrypt(token)
    await session.flush()
    return token, valid_until


async def list_refusals(
    session: AsyncSession, endpoint_id: uuid.UUID, limit: int
) -> list[IntakeRefusal]:
    rows = await session.scalars(
        select(IntakeRefusal)
        .where(IntakeRefusal.endpoint_id == endpoint_id)
        .order_by(IntakeRefusal.received_at.desc())
        .limit(limit)
    )
    return list(rows.all())
