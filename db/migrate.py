"""Apply the Alembic migrations (every feature branch: ``heads``) to a database."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import text
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import AsyncEngine

MIGRATIONS = Path(__file__).parent / "migrations"
LOCK_KEY = 0x6B63626F74  # "kcbot"


def _config(connection: Connection | None = None) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    if connection is not None:
        cfg.attributes["connection"] = connection
    return cfg


def _pending(connection: Connection) -> set[str]:
    heads = set(ScriptDirectory.from_config(_config()).get_heads())
    current = set(MigrationContext.configure(connection).get_current_heads())
    return heads - current


async def upgrade(engine: AsyncEngine) -> bool:
    """Bring the schema up to date. Returns True if anything was applied."""
    async with engine.begin() as conn:
        if conn.dialect.name == "postgresql":
            # Several processes may start at once: one migrates, the others wait for it.
            await conn.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": LOCK_KEY})
        pending = await conn.run_sync(_pending)
        if not pending:
            return False
        await conn.run_sync(lambda c: command.upgrade(_config(c), "heads"))
    return True


async def current_heads(engine: AsyncEngine) -> set[str]:
    async with engine.connect() as conn:
        return set(await conn.run_sync(lambda c: MigrationContext.configure(c).get_current_heads()))
