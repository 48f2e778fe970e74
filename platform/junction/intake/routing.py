"""Which endpoint a webhook token names, remembered for a few seconds.

A shop delivers its orders in bursts to one URL. Looking the token up once per burst,
not once per delivery, takes two database round trips off every delivery. A change
made in this process (a rotated token) takes effect at once; one made in another
process within `ttl` seconds. Deliveries that miss at the same moment (a burst to a new
URL, or one arriving as its route expires) share one lookup.
"""

from __future__ import annotations

import asyncio
import time
import uuid
from collections import OrderedDict
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import and_, or_, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from junction.db.base import utcnow
from junction.db.tenancy import cross_tenant
from junction.intake.models import InboundEndpoint
from junction.tenancy.models import Tenant, TenantStatus


@dataclass(frozen=True)
class EndpointRoute:
    endpoint_id: uuid.UUID
    tenant_id: uuid.UUID
    source_format: str
    signing_secret_encrypted: str | None
    tenant_deleted: bool
    # Set when the token is an endpoint's previous one, accepted until then.
    valid_until: datetime | None = None

    def expired(self, now: datetime) -> bool:
        return self.valid_until is not None and self.valid_until <= now


class EndpointRoutes:
    def __init__(
        self,
        sessionmaker: async_sessionmaker[AsyncSession],
        ttl_seconds: float,
        max_entries: int = 10_000,
    ) -> None:
        self._sessionmaker = sessionmaker
        self.ttl = ttl_seconds
        self.max_entries = max_entries
        self._entries: OrderedDict[str, tuple[float, EndpointRoute]] = OrderedDict()
        self._loading: dict[str, asyncio.Future[EndpointRoute | None]] = {}

    async def find(self, token_hash: str) -> EndpointRoute | None:
        """The live route for a token hash, or None when no endpoint has it.

        A remembered route costs no session at all: most deliveries open none.
        """
        now = utcnow()
        cached = self._entries.get(token_hash)
        if cached is not None and cached[0] > time.monotonic():
            route = cached[1]
            return None if route.expired(now) else route
        loading = self._loading.get(token_hash)
        if loading is None:
            loading = asyncio.ensure_future(self._load(token_hash))
            self._loading[token_hash] = loading
            loading.add_done_callback(lambda done: self._loaded(token_hash, done))
        # Shielded: one delivery's sender hanging up must not cancel the others' lookup.
        loaded = await asyncio.shield(loading)
        if loaded is None or loaded.expired(now):
            self._entries.pop(token_hash, None)
            return None
        if self.ttl > 0:
            self._entries[token_hash] = (time.monotonic() + self.ttl, loaded)
            self._entries.move_to_end(token_hash)
            while len(self._entries) > self.max_entries:
                self._entries.popitem(last=False)
        return loaded

    async def _load(self, token_hash: str) -> EndpointRoute | None:
        async with self._sessionmaker() as session:
            return await _load(session, token_hash)

    def _loaded(self, token_hash: str, done: asyncio.Future[EndpointRoute | None]) -> None:
        if self._loading.get(token_hash) is done:
            del self._loading[token_hash]

    def forget(self) -> None:
        """Drop every remembered route (after a token or an endpoint changed)."""
        self._entries.clear()
        # A lookup begun before the change may have read the old row: later ones start anew.
        self._loading.clear()


async def _load(session: AsyncSession, token_hash: str) -> EndpointRoute | None:
    with cross_tenant(session, "webhook token lookup"):
        row = (
            await session.execute(
                select(
                    InboundEndpoint.id,
                    InboundEndpoint.tenant_id,
                    InboundEndpoint.source_format,
                    InboundEndpoint.signing_secret_encrypted,
                    InboundEndpoint.token_hash,
                    InboundEndpoint.previous_token_valid_until,
                    Tenant.status,
                )
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
    if row is None:
        return None
    endpoint_id, tenant_id, source_format, secret, current_hash, valid_until, status = row
    return EndpointRoute(
        endpoint_id=endpoint_id,
        tenant_id=tenant_id,
        source_format=source_format,
        signing_secret_encrypted=secret,
        tenant_deleted=status is TenantStatus.deleted,
        valid_until=None if current_hash == token_hash else valid_until,
    )
