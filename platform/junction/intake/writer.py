"""Deliveries that arrive together are stored together.

Each delivery still waits for its own event to be committed before it is answered; but
while one INSERT is on its way, the deliveries arriving meanwhile gather, and the next
INSERT stores them all. Under load this turns a statement per delivery into a statement
per batch; when deliveries trickle in, each is written at once, as before.
"""

from __future__ import annotations

import asyncio
import logging
import uuid
from functools import cache
from typing import Any

from sqlalchemy import Table
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.engine import Engine
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from sqlalchemy.sql.dml import ReturningInsert

from junction.db.tenancy import cross_tenant
from junction.events.models import Event

log = logging.getLogger(__name__)

MAX_ROWS = 200


@cache
def _insert_statement(dialect: str) -> ReturningInsert[uuid.UUID]:
    """Built once: the values travel as parameters, the rest comes from the column defaults."""
    table = Event.__table__
    assert isinstance(table, Table)
    insert = pg_insert if dialect == "postgresql" else sqlite_insert
    return (
        insert(table)
        .on_conflict_do_nothing(index_elements=["tenant_id", "idempotency_key"])
        .returning(table.c.id)
    )


class EventWriter:
    def __init__(self, sessionmaker: async_sessionmaker[AsyncSession]) -> None:
        self._sessionmaker = sessionmaker
        self._pending: list[tuple[dict[str, Any], asyncio.Future[uuid.UUID | None]]] = []
        self._writing: asyncio.Task[None] | None = None

    async def insert(self, values: dict[str, Any]) -> uuid.UUID | None:
        """Store one event; its id, or None when its tenant already has its key."""
        future: asyncio.Future[uuid.UUID | None] = asyncio.get_running_loop().create_future()
        self._pending.append(({**values, "id": uuid.uuid4()}, future))
        if self._writing is None or self._writing.done():
            # A task of its own: a delivery whose sender hangs up must not stop the others.
            self._writing = asyncio.create_task(self._drain())
        return await asyncio.shield(future)

    async def _drain(self) -> None:
        while self._pending:
            batch, self._pending = self._pending[:MAX_ROWS], self._pending[MAX_ROWS:]
            if len(batch) > 1:
                try:
                    created = await self._write([values for values, _ in batch])
                except Exception as exc:  # noqa: BLE001 - one bad row must not fail the others
                    # Written again one by one below: a bad row fails only its own delivery.
                    log.warning("a batch of %d events failed: %s", len(batch), type(exc).__name__)
                else:
                    _answer(batch, created)
                    continue
            for values, future in batch:
                try:
                    _answer([(values, future)], await self._write([values]))
                except Exception as exc:  # noqa: BLE001 - handed to the waiting delivery
                    if not future.done():
                        future.set_exception(exc)

    async def _write(self, rows: list[dict[str, Any]]) -> set[uuid.UUID]:
        """One autocommitted statement: atomic on its own, with no BEGIN or COMMIT."""
        async with self._sessionmaker() as session:
            bind = session.get_bind()
            if isinstance(bind, Engine):
                # The session's own connection (not one joined to an enclosing transaction).
                await session.connection(execution_options={"isolation_level": "AUTOCOMMIT"})
            statement = _insert_statement(bind.dialect.name)
            with cross_tenant(session, "intake: one statement for several tenants' events"):
                result = await session.execute(statement, rows)
                created: set[uuid.UUID] = {row[0] for row in result}
            await session.commit()
        return created


def _answer(
    batch: list[tuple[dict[str, Any], asyncio.Future[uuid.UUID | None]]], created: set[uuid.UUID]
) -> None:
    """Each delivery's event id, or None where its key was already taken."""
    for values, future in batch:
        if not future.done():
            future.set_result(values["id"] if values["id"] in created else None)
