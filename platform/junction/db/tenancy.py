"""The tenancy guard: every ORM query on a tenant-owned table is scoped, or it fails.

A session carries at most one tenant in scope (`scope_to_tenant`). Queries touching a
`TenantScoped` table get `WHERE tenant_id = :scope` added by `with_loader_criteria`;
with no tenant in scope they raise `TenantScopeError`. Work that must cross tenants
(the sweeper, staff, API-key and webhook-token lookups) opens an explicit, named bypass
with `cross_tenant(session, reason)`, so every such place can be found by its name.

On PostgreSQL there is a second wall: row-level security on every tenant-owned table
(migration 0010), keyed by the transaction's `junction.tenant_id` setting. A session in
scope sets it, for its transaction, before its first statement (and again if the scope
or a bypass changes), so whatever SQL runs there, raw SQL included, sees and writes only
that tenant's rows. Outside a scope, and inside a named bypass, the setting is empty and
the policies let everything through (the guard above is then the wall).
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from functools import cache
from typing import Any

from sqlalchemy import event, text
from sqlalchemy.orm import ORMExecuteState, Session, with_loader_criteria
from sqlalchemy.sql.util import find_tables

from junction.db.base import Base, TenantScoped

TENANT_KEY = "junction.tenant_id"
BYPASS_KEY = "junction.cross_tenant"


class TenantScopeError(RuntimeError):
    """A query on tenant-owned data ran with no tenant in scope and no named bypass."""


def scope_to_tenant(session: Any, tenant_id: uuid.UUID) -> None:
    """Pin the session (sync or async) to one tenant for the rest of its life."""
    info = session.info
    current = info.get(TENANT_KEY)
    if current is not None and current != tenant_id:
        raise TenantScopeError("session is already scoped to another tenant")
    info[TENANT_KEY] = tenant_id


@contextmanager
def cross_tenant(session: Any, reason: str) -> Iterator[None]:
    """Allow queries across tenants inside the block; `reason` names the place."""
    if not reason:
        raise ValueError("a cross-tenant bypass needs a reason")
    info = session.info
    previous = info.get(BYPASS_KEY)
    info[BYPASS_KEY] = reason
    try:
        yield
    finally:
        if previous is None:
            info.pop(BYPASS_KEY, None)
        else:
            info[BYPASS_KEY] = previous


@cache
def _tenant_tables() -> frozenset[str]:
    return frozenset(
        mapper.local_table.name  # type: ignore[attr-defined]
        for mapper in Base.registry.mappers
        if issubclass(mapper.class_, TenantScoped)
    )


def _touches_tenant_data(state: ORMExecuteState) -> bool:
    # Mappers miss entities named only in select_from() or in subqueries; the tables of
    # the statement do not.
    if any(issubclass(mapper.class_, TenantScoped) for mapper in state.all_mappers):
        return True
    tenant_tables = _tenant_tables()
    return any(
        getattr(table, "name", None) in tenant_tables
        for table in find_tables(
            state.statement,  # type: ignore[arg-type]
            check_columns=True,
            include_joins=True,
            include_selects=True,
            include_crud=True,
        )
    )


# The setting the current transaction carries, kept on the connection's info.
_APPLIED_KEY = "junction.rls_tenant"
_SET_TENANT = text("SELECT set_config('junction.tenant_id', :tenant, true)")


def _sync_row_security(session: Session) -> None:
    """Give the transaction the tenant setting its row-level security policies read."""
    bind = session.get_bind()
    if bind.dialect.name != "postgresql":
        return
    info = session.info
    tenant_id = info.get(TENANT_KEY)
    wanted = "" if tenant_id is None or info.get(BYPASS_KEY) is not None else str(tenant_id)
    connection = session.connection()
    transaction = connection.get_transaction()
    applied = connection.info.get(_APPLIED_KEY)
    # A transaction starts with the setting empty (it was set for one transaction only).
    current = applied[1] if applied is not None and applied[0] is transaction else ""
    if current == wanted:
        return
    connection.execute(_SET_TENANT, {"tenant": wanted})
    connection.info[_APPLIED_KEY] = (transaction, wanted)


@event.listens_for(Session, "do_orm_execute")
def _scope_orm_execute(state: ORMExecuteState) -> None:
    _sync_row_security(state.session)
    if not (state.is_select or state.is_update or state.is_delete):
        return
    if state.is_column_load or state.is_relationship_load:
        # Lazy loads follow an object that was already scoped when it was loaded.
        return
    info = state.session.info
    tenant_id = info.get(TENANT_KEY)
    if tenant_id is None:
        if info.get(BYPASS_KEY) is None and _touches_tenant_data(state):
            raise TenantScopeError(
                "query on tenant-owned data with no tenant in scope; "
                "scope the session or open a named cross_tenant() bypass"
            )
        return
    state.statement = state.statement.options(
        with_loader_criteria(
            TenantScoped,
            lambda cls: cls.tenant_id == tenant_id,
            include_aliases=True,
        )
    )


@event.listens_for(Session, "before_flush")
def _check_new_rows(session: Session, flush_context: Any, instances: Any) -> None:
    _sync_row_security(session)
    tenant_id = session.info.get(TENANT_KEY)
    if tenant_id is None:
        return
    for obj in list(session.new) + list(session.dirty):
        if isinstance(obj, TenantScoped) and obj.tenant_id not in (None, tenant_id):
            raise TenantScopeError("row belongs to another tenant than the one in scope")
