"""The migrations build exactly the models' schema, and undo it."""

from __future__ import annotations

import asyncio

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import inspect

from junction.db import migrate
from junction.db.models import Base
from junction.db.session import create_engine
from tests.support.backends import Databases

pytestmark = pytest.mark.slice


async def _differences(url: str) -> list[object]:
    engine = create_engine(url)
    try:
        async with engine.connect() as connection:
            return await connection.run_sync(
                lambda sync: compare_metadata(
                    MigrationContext.configure(sync, opts={"compare_type": True}), Base.metadata
                )
            )
    finally:
        await engine.dispose()


async def _tables(url: str) -> set[str]:
    engine = create_engine(url)
    try:
        async with engine.connect() as connection:
            return set(await connection.run_sync(lambda sync: inspect(sync).get_table_names()))
    finally:
        await engine.dispose()


async def test_upgrade_head_equals_the_models(databases: Databases) -> None:
    url = await databases.create_migrated()
    assert await _differences(url) == []


async def test_downgrade_base_removes_everything_and_upgrade_rebuilds_it(
    databases: Databases,
) -> None:
    url = await databases.create_migrated()
    await asyncio.to_thread(migrate.downgrade, url, "base")
    assert await _tables(url) == {"alembic_version"}
    await asyncio.to_thread(migrate.upgrade, url)
    assert await _tables(url) >= set(Base.metadata.tables)
    assert await _differences(url) == []


async def test_head_is_a_single_revision() -> None:
    assert len(migrate.head_revisions()) == 1
