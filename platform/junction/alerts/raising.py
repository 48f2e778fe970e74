"""Deciding when to alert: once per change of a connection's state, then reminders.

A connection's status moves for many reasons (a check, a 401 in a plugin, a reconnect,
the provider's disconnect call). Rather than each of them alerting, a cron compares
every connection's status with what its tenant was last told (`alert_state`) and raises
an alert where they differ, or where a reminder is due. The comparison and the new
`alert_state` are written together, conditionally on the old one, so however many
processes run it, each change is announced once.
"""

from __future__ import annotations

import logging
import uuid
from datetime import datetime, timedelta

from sqlalchemy import ColumnElement, and_, func, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from junction.accounts.service import Links
from junction.alerts.messages import ConnectionFacts, compose
from junction.alerts.models import (
    Alert,
    AlertChannel,
    AlertDelivery,
    AlertKind,
    AlertSettings,
    ChannelKind,
)
from junction.connections.models import (
    AlertState,
    Connection,
    ConnectionCheck,
    ConnectionStatus,
)
from junction.db.base import utcnow
from junction.db.tenancy import cross_tenant, scope_to_tenant
from junction.events.models import Event, EventStatus
from junction.members.service import owner_emails
from junction.runtime import Runtime
from junction.tenancy.models import Tenant

log = logging.getLogger(__name__)

DEFAULT_REMINDER = timedelta(hours=24)
# What a tenant is told of a connection in each status.
TOLD = {
    ConnectionStatus.healthy: AlertState.ok,
    ConnectionStatus.expiring: AlertState.expiring,
    ConnectionStatus.expired: AlertState.broken,
    ConnectionStatus.needs_reauth: AlertState.broken,
    ConnectionStatus.revoked: AlertState.broken,
    ConnectionStatus.error: AlertState.broken,
}
# A failing check can be a blip (the other side down for a minute): `error` is alerted
# only once this many checks in a row found it.
ERRORS_BEFORE_ALERT = 2
BATCH = 200


def alert_state_of(status: ConnectionStatus) -> AlertState:
    return TOLD[status]


def decide(
    told: AlertState, remind_at: datetime | None, now_state: AlertState, now: datetime
) -> AlertKind | None:
    """The alert a connection is due, if any: one per change, then one per interval."""
    if now_state is not told:
        return {
            AlertState.ok: AlertKind.recovered,
            AlertState.expiring: AlertKind.expiring,
            AlertState.broken: AlertKind.broken,
        }[now_state]
    if told is not AlertState.ok and remind_at is not None and remind_at <= now:
        return AlertKind.reminder
    return None


def _out_of_step() -> ColumnElement[bool]:
    """Connections whose status no longer matches what their tenant was told."""
    return or_(
        *(
            and_(Connection.status == status, Connection.alert_state != told)
            for status, told in TOLD.items()
        )
    )


async def raise_due_alerts(runtime: Runtime) -> int:
    """The cron's first half: alerts for every connection that is due one (a batch at a
    time: an outage can break thousands of connections at once)."""
    seen: set[uuid.UUID] = set()
    raised = 0
    while True:
        now = utcnow()
        async with runtime.sessionmaker() as session:
            with cross_tenant(session, "alerts: connections out of step with their alerts"):
                rows = (
                    await session.execute(
                        select(
                            Connection.tenant_id,
                            Connection.id,
                            Connection.status,
                            Connection.alert_state,
                            Connection.remind_at,
                        )
                        .where(or_(_out_of_step(), Connection.remind_at <= now))
                        .order_by(Connection.id)
                        .limit(BATCH + len(seen))
                    )
                ).all()
        # What was looked at and left (an `error` not yet repeated, a crash) waits for
        # the next run.
        fresh = [row for row in rows if row[1] not in seen][:BATCH]
        if not fresh:
            return raised
        for tenant_id, connection_id, status, told, remind_at in fresh:
            seen.add(connection_id)
            kind = decide(told, remind_at, alert_state_of(status), now)
            if kind is None:
                continue
            try:
                if await _raise(runtime, tenant_id, connection_id, kind, told, remind_at):
                    raised += 1
            except Exception:
                log.exception("could not raise the alert for connection %s", connection_id)


async def _errors_persist(session: AsyncSession, connection_id: uuid.UUID) -> bool:
    recent = list(
        await session.scalars(
            select(ConnectionCheck.status)
            .where(ConnectionCheck.connection_id == connection_id)
            .order_by(ConnectionCheck.checked_at.desc())
            .limit(ERRORS_BEFORE_ALERT)
        )
    )
    return len(recent) == ERRORS_BEFORE_ALERT and all(
        status is ConnectionStatus.error for status in recent
    )


async def _raise(
    runtime: Runtime,
    tenant_id: uuid.UUID,
    connection_id: uuid.UUID,
    kind: AlertKind,
    told: AlertState,
    remind_at: datetime | None,
) -> bool:
    now = utcnow()
    async with runtime.sessionmaker() as session:
        scope_to_tenant(session, tenant_id)
        connection = await session.scalar(select(Connection).where(Connection.id == connection_id))
        if connection is None:
            return False
        if (
            connection.status is ConnectionStatus.error
            and kind is AlertKind.broken
            and not await _errors_persist(session, connection_id)
        ):
            return False
        settings = await session.get(AlertSettings, tenant_id)
        reminder = timedelta(hours=settings.reminder_hours) if settings else DEFAULT_REMINDER
        new_state = alert_state_of(connection.status)
        # Written only if nobody else announced this change first.
        claimed = await session.execute(
            update(Connection)
            .where(
                Connection.id == connection_id,
                Connection.alert_state == told,
                Connection.remind_at.is_(None)
                if remind_at is None
                else Connection.remind_at == remind_at,
            )
            .values(
                alert_state=new_state,
                remind_at=None if new_state is AlertState.ok else now + reminder,
            )
            .execution_options(synchronize_session=False)
        )
        if claimed.rowcount != 1:  # type: ignore[attr-defined]
            await session.rollback()
            return False
        facts = await _facts(runtime, session, connection)
        composed = compose(kind, facts)
        alert_id = uuid.uuid4()
        alert = Alert(
            id=alert_id,
            tenant_id=tenant_id,
            connection_id=connection_id,
            kind=kind,
            created_at=now,
            subject=composed.subject,
            text=composed.text,
            data={**composed.data, "alert_id": str(alert_id), "created_at": now.isoformat()},
        )
        session.add(alert)
        for delivery in await _deliveries(session, alert):
            session.add(delivery)
        await session.commit()
    log.info("alert %s for connection %s (%s)", kind.value, connection_id, composed.subject)
    return True


async def _facts(
    runtime: Runtime, session: AsyncSession, connection: Connection
) -> ConnectionFacts:
    tenant = await session.get(Tenant, connection.tenant_id)
    assert tenant is not None
    provider = runtime.registry.providers.get(connection.provider)
    detail = await session.scalar(
        select(ConnectionCheck.detail)
        .where(ConnectionCheck.connection_id == connection.id)
        .order_by(ConnectionCheck.checked_at.desc())
        .limit(1)
    )
    paused = await session.scalar(
        select(func.count(Event.id)).where(
            Event.paused_connection_id == connection.id, Event.status == EventStatus.paused
        )
    )
    links = Links(str(runtime.settings.public_base_url))
    return ConnectionFacts(
        tenant_id=tenant.id,
        tenant_slug=tenant.slug,
        tenant_name=tenant.name,
        connection_id=connection.id,
        provider=connection.provider,
        provider_title=provider.title if provider else connection.provider,
        name=connection.name,
        account_ref=connection.account_ref,
        status=connection.status,
        expires_at=connection.expires_at,
        detail=detail or "",
        paused_events=int(paused or 0),
        fix_url=links.page(f"connections/{connection.id}"),
    )


async def _deliveries(session: AsyncSession, alert: Alert) -> list[AlertDelivery]:
    """One delivery per enabled channel; with none set up, one email per owner."""
    channels = list(
        await session.scalars(
            select(AlertChannel)
            .where(AlertChannel.enabled.is_(True))
            .order_by(AlertChannel.created_at)
        )
    )
    if channels:
        return [
            AlertDelivery(
                tenant_id=alert.tenant_id,
                alert_id=alert.id,
                channel_id=channel.id,
                kind=channel.kind,
                target=describe(channel),
                next_attempt_at=alert.created_at,
            )
            for channel in channels
        ]
    owners = await owner_emails(session)
    return [
        AlertDelivery(
            tenant_id=alert.tenant_id,
            alert_id=alert.id,
            channel_id=None,
            kind=ChannelKind.email,
            target=email,
            next_attempt_at=alert.created_at,
        )
        for email in owners
    ]


def describe(channel: AlertChannel) -> str:
    if channel.kind is ChannelKind.email:
        return ", ".join(str(address) for address in channel.recipients)
    if channel.kind is ChannelKind.telegram:
        return f"Telegram chat {channel.target}"
    return channel.target
