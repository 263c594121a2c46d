"""The migrations build exactly the schema the models describe, on both databases."""

from __future__ import annotations

import subprocess
import sys

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from db.migrate import current_heads, upgrade
from db.models import Base
from db.session import create_engine


async def test_models_and_migrations_agree(db_url):
    engine = create_engine(db_url)
    try:
        async with engine.connect() as conn:
            diff = await conn.run_sync(
                lambda c: compare_metadata(
                    MigrationContext.configure(c, opts={"compare_type": False}), Base.metadata
                )
            )
        assert diff == []
        # already up to date: a second upgrade does nothing
        assert await upgrade(engine) is False
        assert await current_heads(engine)
    finally:
        await engine.dispose()


def test_db_upgrade_command_on_a_new_sqlite_file(tmp_path):
    env = {"KCBOT_DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path}/new/kc.sqlite3", "PATH": ""}
    first = subprocess.run(
        [sys.executable, "-m", "bot.cli", "db", "upgrade"],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        cwd=tmp_path,
    )
    assert first.returncode == 0, first.stderr
    assert "Đã cập nhật" in first.stdout
    second = subprocess.run(
        [sys.executable, "-m", "bot.cli", "db", "upgrade"],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        cwd=tmp_path,
    )
    assert "mới nhất" in second.stdout
    assert (tmp_path / "new" / "kc.sqlite3").exists()


def test_malformed_setting_stops_with_one_line(tmp_path):
    env = {"KCBOT_DATABASE_URL": "mysql://nope", "PATH": ""}
    result = subprocess.run(
        [sys.executable, "-m", "bot.cli", "db", "upgrade"],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        cwd=tmp_path,
    )
    assert result.returncode == 2
    assert result.stderr.strip().count("\n") == 0
    assert "KCBOT_DATABASE_URL" in result.stderr
