"""Queries on tenant-owned tables are scoped to one tenant, or they fail."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from junction.db.tenancy import TenantScopeError, cross_tenant, scope_to_tenant
from junction.events.models import Event
from junction.tenancy.models import Tenant
from tests.factories import EventFactory, InboundEndpointFactory, TenantFactory


async def _two_tenants_with_events(session: AsyncSession) -> tuple[Tenant, Tenant]:
    first, second = TenantFactory(), TenantFactory()
    EventFactory.create_batch(2, endpoint=InboundEndpointFactory(installation__tenant=first))
    EventFactory.create_batch(3, endpoint=InboundEndpointFactory(installation__tenant=second))
    await session.flush()
    return first, second


async def test_a_query_with_no_tenant_in_scope_raises(session: AsyncSession) -> None:
    await _two_tenants_with_events(session)
    with pytest.raises(TenantScopeError):
        await session.scalars(select(Event))


async def test_an_update_with_no_tenant_in_scope_raises(session: AsyncSession) -> None:
    await _two_tenants_with_events(session)
    with pytest.raises(TenantScopeError):
        await session.execute(update(Event).values(attempts=5))


async def test_a_scoped_session_sees_only_its_tenant(session: AsyncSession) -> None:
    first, _ = await _two_tenants_with_events(session)
    scope_to_tenant(session, first.id)
    events = (await session.scalars(select(Event))).all()
    assert {event.tenant_id for event in events} == {first.id}
    assert len(events) == 2


async def test_a_scoped_update_cannot_touch_another_tenant(session: AsyncSession) -> None:
    first, second = await _two_tenants_with_events(session)
    scope_to_tenant(session, first.id)
    await session.execute(update(Event).values(attempts=9))
    session.info.clear()
    with cross_tenant(session, "test: count per tenant"):
        untouched = await session.scalar(
            select(func.count())
            .select_from(Event)
            .where(Event.tenant_id == second.id, Event.attempts == 9)
        )
    assert untouched == 0


async def test_a_named_bypass_crosses_tenants(session: AsyncSession) -> None:
    await _two_tenants_with_events(session)
    with cross_tenant(session, "test: all events"):
        assert await session.scalar(select(func.count()).select_from(Event)) == 5
    with pytest.raises(TenantScopeError):
        await session.scalar(select(func.count()).select_from(Event))


async def test_tables_not_owned_by_a_tenant_need_no_scope(session: AsyncSession) -> None:
    await _two_tenants_with_events(session)
    assert await session.scalar(select(func.count()).select_from(Tenant)) == 2


async def test_a_session_cannot_be_moved_to_another_tenant(session: AsyncSession) -> None:
    first, second = await _two_tenants_with_events(session)
    scope_to_tenant(session, first.id)
    with pytest.raises(TenantScopeError):
        scope_to_tenant(session, second.id)


async def test_writing_a_row_of_another_tenant_is_refused(session: AsyncSession) -> None:
    first, second = await _two_tenants_with_events(session)
    scope_to_tenant(session, first.id)
    TenantFactory()
    session.add(Event(tenant_id=second.id, idempotency_key="x", payload={}))
    with pytest.raises(TenantScopeError):
        await session.flush()


async def test_a_bypass_needs_a_reason(session: AsyncSession) -> None:
    with pytest.raises(ValueError, match="reason"), cross_tenant(session, ""):
        pass


async def test_counts_and_subqueries_are_scoped_too(session: AsyncSession) -> None:
    first, _ = await _two_tenants_with_events(session)
    with pytest.raises(TenantScopeError):
        await session.scalar(select(func.count()).select_from(Event))
    ids = select(Event.id).scalar_subquery()
    with pytest.raises(TenantScopeError):
        await session.scalar(select(func.count()).where(Tenant.id.in_(ids)))
    scope_to_tenant(session, first.id)
    assert await session.scalar(select(func.count()).select_from(Event)) == 2
