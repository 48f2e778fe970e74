"""What the core lends an integration while it runs an event: connections, Redis, and a
checkpoint kept on the event."""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from typing import Any

from redis.asyncio import Redis
from sqlalchemy import Table, bindparam, func, select, update

from junction.connections.credentials import ConnectionCredentials, NeedsReauth
from junction.connections.models import NEEDS_A_PERSON, Connection
from junction.db.tenancy import scope_to_tenant
from junction.events.models import Event
from junction.plugins.interfaces import Checkpoint, PermanentError, PluginServices
from junction.runtime import Runtime


class LeaseLost(Exception):
    """Another worker owns the event now: this attempt must stop."""


class EventServices(PluginServices):
    def __init__(self, runtime: Runtime, tenant_id: uuid.UUID) -> None:
        self._runtime = runtime
        self._tenant_id = tenant_id
        self.redis: Redis = runtime.queue.redis

    async def connection(
        self, provider: str, connection_id: uuid.UUID | None = None
    ) -> ConnectionCredentials:
        kind = self._runtime.registry.providers.get(provider)
        if kind is None:
            raise PermanentError(f"no plugin provides {provider!r} connections")
        async with self._runtime.sessionmaker() as session:
            scope_to_tenant(session, self._tenant_id)
            query = select(Connection.id, Connection.status).where(Connection.provider == provider)
            if connection_id is not None:
                query = query.where(Connection.id == connection_id)
            rows = (await session.execute(query)).all()
        if not rows:
            named = f" {connection_id}" if connection_id else ""
            raise PermanentError(
                f"the workspace has no {kind.title} connection{named}; connect one"
            )
        if len(rows) > 1:
            raise PermanentError(
                f"the workspace has {len(rows)} {kind.title} connections; "
                "choose one in the settings"
            )
        [(found, status)] = rows
        if status in NEEDS_A_PERSON:
            raise NeedsReauth(f"the {kind.title} connection needs to be authorized again", found)
        return ConnectionCredentials(
            self._runtime.sessionmaker,
            self._runtime.queue.redis,
            self._runtime.secretbox,
            kind,
            self._tenant_id,
            found,
        )

    async def save_checkpoints(self, saves: Sequence[tuple[Checkpoint, Mapping[str, Any]]]) -> None:
        stored = []
        for checkpoint, values in saves:
            if isinstance(checkpoint, StoredCheckpoint):
                checkpoint.data.update(values)
                stored.append(checkpoint)
            else:
                await checkpoint.save(**values)
        await write_checkpoints(self._runtime, self._tenant_id, stored)


async def write_checkpoints(
    runtime: Runtime, tenant_id: uuid.UUID, checkpoints: Sequence[StoredCheckpoint]
) -> None:
    """Write the checkpoints to their events in one statement, where their claims still
    hold them; `LeaseLost` when one no longer does."""
    if not checkpoints:
        return
    table = Event.__table__
    assert isinstance(table, Table)
    async with runtime.sessionmaker() as session:
        scope_to_tenant(session, tenant_id)
        await session.execute(
            update(table)
            .where(table.c.id == bindparam("event_id"), table.c.claim_id == bindparam("claim"))
            .values(checkpoint=bindparam("data")),
            [
                {"event_id": c.event_id, "claim": c.claim_id, "data": dict(c.data)}
                for c in checkpoints
            ],
        )
        held = await session.scalar(
            select(func.count())
            .select_from(Event)
            .where(
                Event.id.in_([c.event_id for c in checkpoints]),
                Event.claim_id.in_({c.claim_id for c in checkpoints}),
            )
        )
        await session.commit()
    if held != len(checkpoints):
        raise LeaseLost("the lease ran out; another worker has taken the event over")


class StoredCheckpoint(Checkpoint):
    """A checkpoint written to the event at once, only while this claim holds it."""

    def __init__(
        self,
        runtime: Runtime,
        tenant_id: uuid.UUID,
        event_id: uuid.UUID,
        claim_id: uuid.UUID,
        data: Mapping[str, Any] | None,
    ) -> None:
        super().__init__(data)
        self._runtime = runtime
        self._tenant_id = tenant_id
        self.event_id = event_id
        self.claim_id = claim_id

    async def save(self, **values: Any) -> None:
        await super().save(**values)
        await write_checkpoints(self._runtime, self._tenant_id, [self])
