"""The async engine and session factory for SQLite (embedded) and PostgreSQL."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from sqlalchemy import event
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)

DEFAULT_FILE_MODE = 0o600


def folder_mode(file_mode: int) -> int:
    """The folder mode matching a file mode: whoever may read may also enter (600 → 700)."""
    mode = file_mode | 0o700
    for read, execute in ((0o040, 0o010), (0o004, 0o001)):
        if file_mode & read:
            mode |= execute
    return mode


def make_folder(path: Path, file_mode: int = DEFAULT_FILE_MODE) -> None:
    """Create ``path`` (and parents) if missing; the folders created get ``folder_mode``."""
    missing = []
    current = path
    while not current.exists():
        missing.append(current)
        if current.parent == current:
            break
        current = current.parent
    for folder in reversed(missing):
        folder.mkdir(exist_ok=True)
        os.chmod(folder, folder_mode(file_mode))


def create_private(path: Path, file_mode: int = DEFAULT_FILE_MODE) -> None:
    """Create ``path`` empty with ``file_mode`` if it doesn't exist (folders as above)."""
    make_folder(path.parent, file_mode)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, file_mode)
    except FileExistsError:
        return
    try:
        os.fchmod(fd, file_mode)  # the umask may have removed bits the setting asks for
    finally:
        os.close(fd)


def is_sqlite(url: str) -> bool:
    return make_url(url).get_backend_name() == "sqlite"


def create_engine(url: str, *, file_mode: int = DEFAULT_FILE_MODE, **kwargs: Any) -> AsyncEngine:
    """Create the engine; for SQLite, make the folder and tune the file for a chat bot.

    A new SQLite file (and the folders made for it) is readable by its owner only
    (``file_mode``; SQLite gives its -wal and -shm files the same mode).
    """
    if is_sqlite(url):
        database = make_url(url).database
        if database and database != ":memory:" and not database.startswith("file:"):
            create_private(Path(database), file_mode)
        # One connection: SQLite has one writer at a time anyway, and waiting in the pool's
        # queue is much cheaper than SQLite's busy handler, which sleeps and retries.
        kwargs.setdefault("pool_size", 1)
        kwargs.setdefault("max_overflow", 0)
        kwargs.setdefault("pool_timeout", 60)
        # Every use ends in an explicit commit or rollback: skip the extra one on check-in.
        kwargs.setdefault("pool_reset_on_return", None)
        engine = create_async_engine(url, connect_args={"timeout": 30}, **kwargs)

        @event.listens_for(engine.sync_engine, "connect")
        def _sqlite_pragmas(dbapi_conn: Any, _record: Any) -> None:
            cur = dbapi_conn.cursor()
            # WAL lets readers work while one writer commits. With WAL, synchronous=NORMAL
            # writes every commit to the -wal file before COMMIT returns and syncs it at
            # checkpoints: a process that dies (kill -9, OOM, crash) loses nothing, since the
            # writes are in the operating system's hands; only a power cut or kernel crash
            # may undo the last commits. That is the failure the inbox and outbox guarantee
            # against; FULL would add an fsync to every commit for the power-cut case.
            cur.execute("PRAGMA journal_mode=WAL")
            cur.execute("PRAGMA synchronous=NORMAL")
            cur.execute("PRAGMA foreign_keys=ON")
            cur.execute("PRAGMA busy_timeout=30000")
            cur.close()

        return engine
    # The inbox worker handles 16 messages at once, each in its own transaction, beside the
    # receiving transports and the outbox: SQLAlchemy's default pool (5 + 10) makes them
    # queue for connections.
    kwargs.setdefault("pool_size", 20)
    kwargs.setdefault("max_overflow", 20)
    # No pre-ping (a round trip per checkout): a connection dropped by a restarted server
    # fails one transaction, which the inbox and outbox retry.
    return create_async_engine(url, pool_recycle=1800, **kwargs)


def session_factory(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    return async_sessionmaker(engine, expire_on_commit=False)
