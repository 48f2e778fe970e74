"""Connection health: each connection checked on a schedule, refreshed before it dies.

A check renews the credentials when they are about to expire or when the provider's
keep-alive is due (a refresh token unused for months would die), then makes the
provider's cheap probe call, records the result (kept 30 days) and moves the status.
Checks are spread over time: each connection's next one is due an interval later, give
or take a fifth, so a thousand connections never all call out in the same minute.
"""

from __future__ import annotations

import logging
import random
import time
import uuid
from datetime import timedelta

from sqlalchemy import delete, select, update

from junction.connections.credentials import (
    ConnectionCredentials,
    ConnectionGone,
    Credentials,
    NeedsReauth,
)
from junction.connections.models import (
    NEEDS_A_PERSON,
    Connection,
    ConnectionCheck,
    ConnectionStatus,
)
from junction.db.base import utcnow
from junction.db.tenancy import cross_tenant, scope_to_tenant
from junction.plugins.interfaces import ConnectionProvider
from junction.runtime import Runtime

log = logging.getLogger(__name__)

CHECK_INTERVAL = timedelta(hours=1)
# Credentials nobody can renew are `expiring` this long before they expire.
EXPIRING_WITHIN = timedelta(days=3)
HISTORY = timedelta(days=30)
# Connections read per query, and how long one cron run keeps checking (it runs every
# minute): a backlog is worked off batch after batch rather than a hundred a minute.
BATCH = 100
RUN_SECONDS = 45.0


def _next_check() -> timedelta:
    return CHECK_INTERVAL * random.uniform(0.8, 1.2)  # noqa: S311 - spreading only


def _keep_alive_due(provider: ConnectionProvider, row: Connection, current: Credentials) -> bool:
    if provider.keep_alive is None or not provider.renewable(current.secrets):
        return False
    # Without a record of the last renewal, count from the connection's creation: every
    # check moves `updated_at`, which would put the keep-alive off for ever.
    return utcnow() - (row.refreshed_at or row.created_at) >= provider.keep_alive


def _status_of(provider: ConnectionProvider, credentials: Credentials) -> ConnectionStatus:
    """A working credential's status, by its expiry (renewable ones renew themselves)."""
    expires_at = credentials.expires_at
    if provider.renewable(credentials.secrets) or expires_at is None:
        return ConnectionStatus.healthy
    if expires_at <= utcnow():
        return ConnectionStatus.expired
    if expires_at - utcnow() <= EXPIRING_WITHIN:
        return ConnectionStatus.expiring
    return ConnectionStatus.healthy


async def check_connection(
    runtime: Runtime, tenant_id: uuid.UUID, connection_id: uuid.UUID
) -> ConnectionCheck | None:
    """Check one connection now; the recorded check (None if the connection is gone)."""
    async with runtime.sessionmaker() as session:
        scope_to_tenant(session, tenant_id)
        row = await session.scalar(select(Connection).where(Connection.id == connection_id))
    if row is None:
        return None
    provider = runtime.registry.providers.get(row.provider)
    started = time.perf_counter()
    refreshed = False
    if provider is None:
        status, detail = ConnectionStatus.error, f"the {row.provider!r} plugin is not loaded"
    elif row.status in NEEDS_A_PERSON:
        status, detail = row.status, "waiting for someone to reconnect it"
    else:
        credentials = ConnectionCredentials(
            runtime.sessionmaker,
            runtime.queue.redis,
            runtime.secretbox,
            provider,
            tenant_id,
            connection_id,
        )
        try:
            current = await credentials.load()
            renewable = provider.renewable(current.secrets)
            if renewable and (
                credentials.expiring(current) or _keep_alive_due(provider, row, current)
            ):
                current = await credentials.refresh(current.version)
                refreshed = True
            probe = await provider.probe(current.secrets, current.details)
            if not probe.ok and not refreshed and (renewable or probe.refused):
                # Refused: a renewable token is renewed once and probed again; any other
                # is marked for a person (`refresh` does both).
                current = await credentials.refresh(current.version)
                refreshed = True
                probe = await provider.probe(current.secrets, current.details)
            status = _status_of(provider, current) if probe.ok else ConnectionStatus.error
            detail = probe.detail
        except NeedsReauth as exc:
            status, detail = exc.status, str(exc)
        except ConnectionGone:
            return None
        except Exception as exc:
            # The other side down in the middle of a renewal …: a failed check like any
            # other (two in a row are alerted), and the next one at its turn.
            log.warning("the health check of connection %s failed", connection_id, exc_info=True)
            status, detail = (
                ConnectionStatus.error,
                f"the check could not finish ({type(exc).__name__})",
            )
        if refreshed:
            detail = f"renewed; {detail}"
    now = utcnow()
    check = ConnectionCheck(
        tenant_id=tenant_id,
        connection_id=connection_id,
        checked_at=now,
        status=status,
        detail=detail[:500],
        refreshed=refreshed,
        duration_ms=round((time.perf_counter() - started) * 1000),
    )
    values: dict[str, object] = {
        "status": status,
        "next_check_at": now + _next_check(),
    }
    if refreshed:
        values["refreshed_at"] = now
    async with runtime.sessionmaker() as session:
        scope_to_tenant(session, tenant_id)
        session.add(check)
        await session.execute(
            update(Connection)
            .where(Connection.id == connection_id)
            .values(**values)
            .execution_options(synchronize_session=False)
        )
        await session.commit()
    if status is not row.status:
        log.info("connection %s: %s -> %s (%s)", connection_id, row.status, status, detail)
    return check


async def check_due_connections(runtime: Runtime, *, budget: float = RUN_SECONDS) -> int:
    """The cron's work: every connection whose check is due, a batch at a time, for at
    most `budget` seconds. Each check moves its connection's next one on, so a batch is
    never taken twice."""
    deadline = time.monotonic() + budget
    checked = 0
    while time.monotonic() < deadline:
        now = utcnow()
        async with runtime.sessionmaker() as session:
            with cross_tenant(session, "health checks of every tenant's connections"):
                due = (
                    await session.execute(
                        select(Connection.tenant_id, Connection.id)
                        .where(
                            (Connection.next_check_at.is_(None)) | (Connection.next_check_at <= now)
                        )
                        .order_by(Connection.next_check_at.nulls_first())
                        .limit(BATCH)
                    )
                ).all()
        if not due:
            break
        for tenant_id, connection_id in due:
            if await check_connection(runtime, tenant_id, connection_id) is not None:
                checked += 1
            if time.monotonic() >= deadline:
                break
    return checked


async def purge_old_checks(runtime: Runtime) -> int:
    async with runtime.sessionmaker() as session:
        with cross_tenant(session, "health check history retention"):
            result = await session.execute(
                delete(ConnectionCheck).where(ConnectionCheck.checked_at < utcnow() - HISTORY)
            )
        await session.commit()
    return int(result.rowcount)  # type: ignore[attr-defined]
