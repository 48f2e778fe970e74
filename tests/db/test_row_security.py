"""PostgreSQL's row-level security: the second wall behind the application's scoping."""

from __future__ import annotations

import importlib.util
import uuid
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncSession

from junction.db.base import Base, TenantScoped
from junction.db.tenancy import cross_tenant, scope_to_tenant
from tests.factories import EventFactory

MIGRATIONS = Path(__file__).resolve().parents[2] / "migrations/versions"


def test_every_tenant_owned_table_has_its_policy() -> None:
    covered: set[str] = set()
    for path in sorted(MIGRATIONS.glob("*.py")):
        spec = importlib.util.spec_from_file_location(f"migration_{path.stem}", path)
        assert spec is not None
        assert spec.loader is not None
        migration = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(migration)
        covered |= set(getattr(migration, "TENANT_TABLES", ()))
    owned = {
        mapper.local_table.name  # type: ignore[attr-defined]
        for mapper in Base.registry.mappers
        if issubclass(mapper.class_, TenantScoped)
    }
    # A new tenant-owned table needs its policy in the migration that adds it
    # (listed in that migration's TENANT_TABLES).
    assert covered == owned


async def test_sql_that_forgets_the_tenant_sees_and_writes_only_its_rows(
    session: AsyncSession,
) -> None:
    if session.get_bind().dialect.name != "postgresql":
        pytest.skip("row-level security is PostgreSQL's")
    mine, theirs = EventFactory(), EventFactory()
    await session.commit()
    # Superusers (the tests' role) pass every policy: look as a plain role instead.
    await session.execute(text("CREATE ROLE junction_rls_probe NOLOGIN"))
    await session.execute(text("GRANT SELECT, INSERT ON events TO junction_rls_probe"))
    await session.execute(text("SET LOCAL ROLE junction_rls_probe"))

    scope_to_tenant(session, mine.tenant_id)
    # No tenant in this SQL, deliberately: the policy adds it.
    seen = (await session.execute(text("SELECT tenant_id FROM events"))).scalars().all()
    assert set(seen) == {mine.tenant_id}
    assert theirs.tenant_id not in seen

    # Outside a scope (the ORM guard's business then), the policies let everything by.
    session.info.clear()
    everyone = (await session.execute(text("SELECT tenant_id FROM events"))).scalars().all()
    assert {mine.tenant_id, theirs.tenant_id} <= set(everyone)
    scope_to_tenant(session, mine.tenant_id)
    with cross_tenant(session, "test: a named bypass sees every tenant"):
        everyone = (await session.execute(text("SELECT tenant_id FROM events"))).scalars().all()
    assert {mine.tenant_id, theirs.tenant_id} <= set(everyone)

    savepoint = await session.begin_nested()
    with pytest.raises(DBAPIError, match="row-level security"):
        await session.execute(
            text(
                "INSERT INTO events (id, tenant_id, idempotency_key, content_type, payload,"
                " headers, status, attempts, received_at, next_attempt_at, updated_at)"
                " VALUES (:id, :tenant, 'k', '', '{}', '{}', 'received', 0, now(), now(), now())"
            ),
            {"id": uuid.uuid4(), "tenant": theirs.tenant_id},
        )
    await savepoint.rollback()
