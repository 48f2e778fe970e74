"""Remembered endpoint routes: fewer lookups, never a route past its validity."""

from __future__ import annotations

import asyncio
from datetime import timedelta

from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from junction.db.base import utcnow
from junction.db.tenancy import cross_tenant
from junction.intake.models import InboundEndpoint
from junction.intake.routing import EndpointRoute, EndpointRoutes
from junction.intake.tokens import hash_endpoint_token
from junction.tenancy.models import Tenant, TenantStatus
from tests.factories import InboundEndpointFactory


async def _set(session: AsyncSession, statement: object) -> None:
    with cross_tenant(session, "test: change an endpoint behind the cache"):
        await session.execute(statement)  # type: ignore[call-overload]
    await session.commit()


async def test_a_route_is_remembered_until_its_time_is_up(
    session: AsyncSession, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    endpoint = InboundEndpointFactory(token="tok-remembered")
    await session.commit()
    routes = EndpointRoutes(sessionmaker, ttl_seconds=3600)
    first = await routes.find(hash_endpoint_token("tok-remembered"))
    assert first is not None
    assert first.endpoint_id == endpoint.id
    assert not first.tenant_deleted

    await _set(
        session,
        update(Tenant).where(Tenant.id == endpoint.tenant_id).values(status=TenantStatus.deleted),
    )
    assert await routes.find(hash_endpoint_token("tok-remembered")) == first
    routes.forget()
    again = await routes.find(hash_endpoint_token("tok-remembered"))
    assert again is not None
    assert again.tenant_deleted


async def test_a_remembered_previous_token_still_ends_on_time(
    session: AsyncSession, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    endpoint = InboundEndpointFactory(token="tok-new")
    await session.commit()
    ends = utcnow() + timedelta(hours=1)
    await _set(
        session,
        update(InboundEndpoint)
        .where(InboundEndpoint.id == endpoint.id)
        .values(
            previous_token_hash=hash_endpoint_token("tok-old"), previous_token_valid_until=ends
        ),
    )
    routes = EndpointRoutes(sessionmaker, ttl_seconds=3600)
    old = await routes.find(hash_endpoint_token("tok-old"))
    assert old is not None
    assert old.valid_until == ends
    assert old.expired(ends)
    assert not old.expired(ends - timedelta(seconds=1))
    current = await routes.find(hash_endpoint_token("tok-new"))
    assert current is not None
    assert current.valid_until is None


async def test_unknown_tokens_are_not_remembered(
    session: AsyncSession, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    routes = EndpointRoutes(sessionmaker, ttl_seconds=3600)
    assert await routes.find(hash_endpoint_token("tok-later")) is None
    InboundEndpointFactory(token="tok-later")
    await session.commit()
    assert await routes.find(hash_endpoint_token("tok-later")) is not None


async def test_deliveries_missing_together_share_one_lookup(
    session: AsyncSession, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    endpoint = InboundEndpointFactory(token="tok-burst")
    await session.commit()
    routes = EndpointRoutes(sessionmaker, ttl_seconds=3600)
    lookups = 0
    load = routes._load

    async def counted(token_hash: str) -> EndpointRoute | None:
        nonlocal lookups
        lookups += 1
        return await load(token_hash)

    routes._load = counted  # type: ignore[method-assign]
    found = await asyncio.gather(
        *(routes.find(hash_endpoint_token("tok-burst")) for _ in range(20))
    )
    assert lookups == 1
    assert {route.endpoint_id for route in found if route is not None} == {endpoint.id}
