"""Running Alembic from Junction: the `migrate` command, `/readyz` and the tests."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy.ext.asyncio import AsyncConnection

_SOURCE_TREE = Path(__file__).resolve().parents[3]


def migrations_dir() -> Path:
    """`migrations/` of the source tree, or the copy packaged inside the wheel."""
    packaged = Path(__file__).resolve().parents[1] / "migrations"
    return packaged if packaged.is_dir() else _SOURCE_TREE / "migrations"


def alembic_config(database_url: str) -> Config:
    config = Config()
    config.set_main_option("script_location", str(migrations_dir()))
    config.set_main_option("sqlalchemy.url", database_url.replace("%", "%%"))
    return config


def upgrade(database_url: str, revision: str = "head") -> None:
    command.upgrade(alembic_config(database_url), revision)


def downgrade(database_url: str, revision: str) -> None:
    command.downgrade(alembic_config(database_url), revision)


def head_revisions() -> set[str]:
    script = ScriptDirectory.from_config(alembic_config("sqlite://"))
    return set(script.get_heads())


async def current_revisions(connection: AsyncConnection) -> set[str]:
    def _read(sync_connection: object) -> set[str]:
        context = MigrationContext.configure(sync_connection)  # type: ignore[arg-type]
        return set(context.get_current_heads())

    return await connection.run_sync(_read)
