"""API keys: random, shown once, kept only as a SHA-256.

A key looks like `jk_<prefix>_<secret>`; the prefix names it in lists without
revealing it. A fast hash is enough: keys carry 256 bits of randomness, nothing to
guess or crack.
"""

from __future__ import annotations

import hashlib
import secrets
import uuid
from datetime import timedelta

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from junction.db.base import utcnow
from junction.db.tenancy import cross_tenant
from junction.tenancy.models import ApiKey, Role

KEY_SCHEME = "jk"
LAST_USED_RESOLUTION = timedelta(minutes=1)


def hash_api_key(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def new_api_key(tenant_id: uuid.UUID, name: str, role: Role = Role.viewer) -> tuple[ApiKey, str]:
    """A new key row (not yet added to a session) and the key itself, to show once."""
    prefix = secrets.token_hex(4)
    key = f"{KEY_SCHEME}_{prefix}_{secrets.token_urlsafe(32)}"
    row = ApiKey(
        tenant_id=tenant_id, name=name, prefix=prefix, key_hash=hash_api_key(key), role=role
    )
    return row, key


async def authenticate_api_key(session: AsyncSession, presented: str) -> ApiKey | None:
    with cross_tenant(session, "api key lookup"):
        api_key = await session.scalar(
            select(ApiKey).where(
                ApiKey.key_hash == hash_api_key(presented), ApiKey.revoked_at.is_(None)
            )
        )
        now = utcnow()
        stale = api_key is not None and (
            api_key.last_used_at is None or now - api_key.last_used_at > LAST_USED_RESOLUTION
        )
        if api_key is not None and stale:
            # Recorded at most once a minute: reads should not all become writes.
            await session.execute(
                update(ApiKey).where(ApiKey.id == api_key.id).values(last_used_at=now)
            )
            await session.commit()
    return api_key
