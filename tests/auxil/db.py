"""Database fixtures: every engine/database test runs on SQLite and on PostgreSQL.

PostgreSQL: ``KCBOT_TEST_POSTGRES_URL`` (default the local server). Each test session gets
its own database (so parallel runs don't collide), migrated once; each test starts from
empty tables. With ``CI=true`` an unreachable server fails the tests instead of skipping.
"""

from __future__ import annotations

import asyncio
import os
import uuid
from collections.abc import AsyncIterator, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import text
from sqlalchemy.engine import make_url

from db.migrate import upgrade
from db.models import Base
from db.session import create_engine

DEFAULT_PG = "postgresql+asyncpg://postgres@127.0.0.1:5432/test"
BACKENDS = ["sqlite", "postgres"]


def postgres_url() -> str:
    return os.environ.get("KCBOT_TEST_POSTGRES_URL", DEFAULT_PG)


def in_ci() -> bool:
    return os.environ.get("CI", "").lower() == "true"


def run_async(coro_factory: Any) -> Any:
    """Run a coroutine to completion on a private loop in a worker thread.

    Session fixtures are set up while a test's event loop is already running, where
    ``asyncio.run`` is not allowed.
    """
    with ThreadPoolExecutor(1) as pool:
        return pool.submit(lambda: asyncio.run(coro_factory())).result()


async def _admin(sql: str) -> None:
    engine = create_engine(postgres_url(), isolation_level="AUTOCOMMIT")
    try:
        async with engine.connect() as conn:
            await conn.execute(text(sql))
    finally:
        await engine.dispose()


@pytest.fixture(scope="session")
def postgres_database() -> Iterator[str]:
    """A fresh, migrated PostgreSQL database for this test session."""
    name = f"kcbot_test_{os.getpid()}_{uuid.uuid4().hex[:6]}"
    try:
        run_async(lambda: asyncio.wait_for(_admin(f'CREATE DATABASE "{name}"'), 10))
    except Exception as exc:  # noqa: BLE001 - any failure means "no server"
        message = f"PostgreSQL at {postgres_url()} is unreachable: {exc!r}"
        if in_ci():
            pytest.fail(message, pytrace=False)
        pytest.skip(message)
    url = make_url(postgres_url()).set(database=name).render_as_string(hide_password=False)

    async def migrate() -> None:
        engine = create_engine(url)
        try:
            await upgrade(engine)
        finally:
            await engine.dispose()

    run_async(migrate)
    yield url
    run_async(lambda: _admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


async def _truncate_all(url: str) -> None:
    engine = create_engine(url)
    try:
        tables = ", ".join(f'"{t.name}"' for t in Base.metadata.sorted_tables)
        async with engine.begin() as conn:
            await conn.execute(text(f"TRUNCATE {tables} RESTART IDENTITY CASCADE"))
    finally:
        await engine.dispose()


@pytest.fixture(params=BACKENDS)
async def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[str]:
    """A migrated, empty database URL: once on SQLite, once on PostgreSQL."""
    if request.param == "sqlite":
        url = f"sqlite+aiosqlite:///{tmp_path / 'kcbot.sqlite3'}"
        engine = create_engine(url)
        try:
            await upgrade(engine)
        finally:
            await engine.dispose()
        yield url
    else:
        url = request.getfixturevalue("postgres_database")
        await _truncate_all(url)
        yield url


@pytest.fixture
async def sqlite_url(tmp_path: Path) -> AsyncIterator[str]:
    """A migrated SQLite file, for tests that don't need both backends."""
    url = f"sqlite+aiosqlite:///{tmp_path / 'kcbot.sqlite3'}"
    engine = create_engine(url)
    try:
        await upgrade(engine)
    finally:
        await engine.dispose()
    yield url
