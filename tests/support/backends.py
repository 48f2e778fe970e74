"""The database and Redis the tests run against.

`JUNCTION_TEST_DATABASE_URL` (a PostgreSQL database the tests may create databases
from) and `JUNCTION_TEST_REDIS_URL` choose real servers; without them the tests run on
SQLite files and the embedded Redis.
"""

from __future__ import annotations

import asyncio
import os
import uuid
from pathlib import Path

from sqlalchemy import event, text
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncEngine

from junction.db import migrate
from junction.db.session import create_engine


def postgres_admin_url() -> str | None:
    return os.environ.get("JUNCTION_TEST_DATABASE_URL") or None


def external_redis_url() -> str | None:
    return os.environ.get("JUNCTION_TEST_REDIS_URL") or None


class Databases:
    """Creates empty databases for tests and drops them afterwards."""

    def __init__(self, workdir: Path) -> None:
        self.workdir = workdir
        self.admin_url = postgres_admin_url()
        self._created: list[str] = []

    @property
    def backend(self) -> str:
        return "postgresql" if self.admin_url else "sqlite"

    async def create(self) -> str:
        name = f"jt_{uuid.uuid4().hex[:12]}"
        if self.admin_url is None:
            return f"sqlite+aiosqlite:///{self.workdir / (name + '.db')}"
        await self._admin(f'CREATE DATABASE "{name}"')
        self._created.append(name)
        return make_url(self.admin_url).set(database=name).render_as_string(hide_password=False)

    async def create_migrated(self) -> str:
        url = await self.create()
        # Alembic's env runs its own event loop: keep it off this one.
        await asyncio.to_thread(migrate.upgrade, url)
        return url

    async def drop_all(self) -> None:
        for name in self._created:
            await self._admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        self._created.clear()

    async def _admin(self, statement: str) -> None:
        assert self.admin_url is not None
        engine = create_engine(self.admin_url, isolation_level="AUTOCOMMIT")
        try:
            async with engine.connect() as connection:
                await connection.execute(text(statement))
        finally:
            await engine.dispose()


def test_engine(url: str) -> AsyncEngine:
    """An engine whose SQLite transactions really begin, so SAVEPOINTs nest properly.

    pysqlite defers BEGIN until the first write, which breaks the rollback-per-test
    pattern; the fix is SQLAlchemy's documented recipe.
    """
    engine = create_engine(url)
    if engine.dialect.name == "sqlite":

        @event.listens_for(engine.sync_engine, "connect")
        def _no_implicit_transactions(dbapi_connection: object, _record: object) -> None:
            dbapi_connection.isolation_level = None  # type: ignore[attr-defined]

        @event.listens_for(engine.sync_engine, "begin")
        def _begin(connection: object) -> None:
            connection.exec_driver_sql("BEGIN")  # type: ignore[attr-defined]

    return engine
