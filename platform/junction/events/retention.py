"""Payload retention: settled events keep their outcome, not their content, for ever.

After `JUNCTION_PAYLOAD_RETENTION_DAYS` a done or failed event's payload, headers and
result (which may echo the order: names, addresses, phones) are dropped; its status,
attempts, errors and timestamps stay. Events still on their way are never touched.
"""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import JSON, select, update

from junction.db.base import utcnow
from junction.db.tenancy import cross_tenant
from junction.events.models import Event, EventStatus
from junction.runtime import Runtime

SETTLED = (EventStatus.done, EventStatus.failed)
PURGE_BATCH = 1000


async def purge_expired_payloads(runtime: Runtime) -> int:
    """Drop the content of settled events older than the retention; returns how many."""
    days = runtime.settings.payload_retention_days
    if days == 0:
        return 0
    cutoff = utcnow() - timedelta(days=days)
    purged = 0
    async with runtime.sessionmaker() as session:
        with cross_tenant(session, "payload retention"):
            while True:
                ids = list(
                    (
                        await session.scalars(
                            select(Event.id)
                            .where(
                                Event.status.in_(SETTLED),
                                Event.received_at < cutoff,
                                Event.payload_purged_at.is_(None),
                            )
                            .limit(PURGE_BATCH)
                        )
                    ).all()
                )
                if not ids:
                    return purged
                await session.execute(
                    update(Event)
                    .where(Event.id.in_(ids))
                    .values(
                        payload=JSON.NULL, headers={}, result=JSON.NULL, payload_purged_at=utcnow()
                    )
                    .execution_options(synchronize_session=False)
                )
                await session.commit()
                purged += len(ids)
