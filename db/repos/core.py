"""Repositories for users, conversation state and handled updates."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Protocol

from sqlalchemy import Boolean, String, bindparam, column, delete, func, select, text, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession

from db.models.base import utcnow
from db.models.core import Conversation, ProcessedUpdate, User


def dialect_insert(session: AsyncSession, model: type) -> postgresql.Insert | sqlite.Insert:
    """The dialect's INSERT, which knows ON CONFLICT."""
    if session.get_bind().dialect.name == "postgresql":
        return postgresql.insert(model)
    return sqlite.insert(model)


def is_postgres(session: AsyncSession) -> bool:
    return session.get_bind().dialect.name == "postgresql"


_STATEMENTS: dict[tuple[str, str], Any] = {}


def _hot(conn: AsyncConnection, name: str, build: Callable[[Any], Any]) -> Any:
    """A statement of the per-message path, built once per dialect with bound parameters."""
    dialect = conn.dialect.name
    key = (dialect, name)
    stmt = _STATEMENTS.get(key)
    if stmt is None:
        stmt = _STATEMENTS[key] = build(postgresql if dialect == "postgresql" else sqlite)
    return stmt


class ConversationStore(Protocol):
    """The conversation store every backend implements (the contract the tests in
    ``tests/db/test_conversation_store.py`` check on SQLite and PostgreSQL)."""

    async def record_and_lock(
        self, channel: str, chat_id: str, update_id: str | None
    ) -> ConversationRow | None: ...

    async def lock_conversation(self, channel: str, chat_id: str) -> ConversationRow: ...

    async def save_conversation(
        self,
        channel: str,
        chat_id: str,
        dialogue: str | None,
        step: str | None,
        data: dict[str, Any],
        last_buttons: list[Any],
    ) -> None: ...

    async def user_seen(
        self,
        channel: str,
        chat_id: str,
        user_id: str,
        display_name: str | None,
        language: str | None,
        now: datetime,
    ) -> SeenUser: ...

    async def prune(self, older_than: timedelta) -> int: ...


class ChatStore:
    """The conversation store on one connection, inside the caller's transaction, with
    SQLAlchemy Core statements that serve both SQLite and PostgreSQL.

    Each message costs four statements at most: record the update id, upsert the user,
    lock and load the chat's state, save it if it changed. Statements are built once per
    dialect (building an INSERT … ON CONFLICT … RETURNING costs more than running it).
    """

    def __init__(self, conn: AsyncConnection) -> None:
        self.conn = conn

    async def record_update(self, channel: str, update_id: str) -> bool:
        """Record the update; False if it had been recorded before (a redelivery)."""
        params = {"channel": channel, "update_id": update_id, "received_at": utcnow()}
        return bool(await self._rows("record_update", _build_record_update, params))

    async def record_and_lock(
        self, channel: str, chat_id: str, update_id: str | None
    ) -> ConversationRow | None:
        """Record the update and lock the chat's state; None for a redelivered update.

        On PostgreSQL both happen in one round trip (data-modifying CTEs).
        """
        if update_id is None:
            return await self.lock_conversation(channel, chat_id)
        if self.conn.dialect.name != "postgresql":
            if not await self.record_update(channel, update_id):
                return None
            return await self.lock_conversation(channel, chat_id)
        params = {"channel": channel, "chat_id": chat_id, "update_id": update_id, "now": utcnow()}
        row = (await self.conn.execute(_PG_RECORD_AND_LOCK, params)).one()
        if not row.first:
            return None
        return ConversationRow(row.dialogue, row.step, row.data or {}, row.last_buttons or [])

    async def user_seen(
        self,
        channel: str,
        chat_id: str,
        user_id: str,
        display_name: str | None,
        language: str | None,
        now: datetime,
    ) -> SeenUser:
        """Record first contact or refresh the user."""
        params = {
            "channel": channel,
            "chat_id": chat_id,
            "user_id": user_id,
            "display_name": display_name,
            "language": language,
            "now": now,
        }
        (row,) = await self._rows("user_seen", _build_user_seen, params)
        return SeenUser(*row)

    async def lock_conversation(self, channel: str, chat_id: str) -> ConversationRow:
        """The chat's state, created if new, locked until the transaction ends.

        The no-op ON CONFLICT UPDATE takes the row lock on PostgreSQL, which serialises one
        chat's messages across processes (SQLite has a single writer).
        """
        params = {"channel": channel, "chat_id": chat_id, "now": utcnow()}
        ((dialogue, step, data, last_buttons),) = await self._rows(
            "conversation_lock", _build_conversation_lock, params
        )
        return ConversationRow(dialogue, step, data or {}, last_buttons or [])

    async def save_conversation(
        self,
        channel: str,
        chat_id: str,
        dialogue: str | None,
        step: str | None,
        data: dict[str, Any],
        last_buttons: list[Any],
    ) -> None:
        params = {
            "key_channel": channel,
            "key_chat_id": chat_id,
            "dialogue": dialogue,
            "step": step,
            "data": data,
            "last_buttons": last_buttons,
            "now": utcnow(),
        }
        await self._rows("conversation_save", _build_conversation_save, params)

    async def users(self, keys: Sequence[tuple[str, str]]) -> dict[tuple[str, str], SeenUser]:
        """The users of these chats as stored now (role included), keyed by (channel,
        chat id); chats without a row are left out. One statement per channel."""
        by_channel: dict[str, list[str]] = {}
        for channel, chat_id in keys:
            by_channel.setdefault(channel, []).append(chat_id)
        found: dict[tuple[str, str], SeenUser] = {}
        stmt = _hot(self.conn, "users_of", _build_users_of)
        for channel, chat_ids in by_channel.items():
            result = await self.conn.execute(stmt, {"channel": channel, "chat_ids": chat_ids})
            for row in result:
                user = SeenUser(*row)
                found[(user.channel, user.chat_id)] = user
        return found

    async def lock_conversations(
        self, keys: Sequence[tuple[str, str]]
    ) -> dict[tuple[str, str], ConversationRow]:
        """``lock_conversation`` for many chats in one statement (a batch of messages
        handled in one transaction), keyed by (channel, chat id). Locked in key order, so
        two batches never wait on each other crosswise."""
        if not keys:
            return {}
        now = utcnow()
        params = [{"channel": c, "chat_id": i, "now": now} for c, i in sorted(set(keys))]
        stmt = _hot(self.conn, "conversation_lock_many", _build_conversation_lock_many)
        result = await self.conn.execute(stmt, params)
        return {
            (channel, chat_id): ConversationRow(dialogue, step, data or {}, last_buttons or [])
            for channel, chat_id, dialogue, step, data, last_buttons in result
        }

    async def save_conversations(self, rows: Sequence[SavedConversation]) -> None:
        """``save_conversation`` for many chats in one statement."""
        if not rows:
            return
        now = utcnow()
        params = [
            {
                "key_channel": r.channel,
                "key_chat_id": r.chat_id,
                "dialogue": r.dialogue,
                "step": r.step,
                "data": r.data,
                "last_buttons": r.last_buttons,
                "now": now,
            }
            for r in rows
        ]
        await self.conn.execute(
            _hot(self.conn, "conversation_save", _build_conversation_save), params
        )

    async def _rows(
        self, name: str, build: Callable[[Any], Any], params: dict[str, Any]
    ) -> list[tuple[Any, ...]]:
        """Run a hot statement; its RETURNING rows as tuples."""
        result = await self.conn.execute(_hot(self.conn, name, build), params)
        return [tuple(row) for row in result] if result.returns_rows else []

    async def prune(self, older_than: timedelta) -> int:
        """Forget handled update ids older than ``older_than``."""
        result = await self.conn.execute(
            delete(ProcessedUpdate).where(ProcessedUpdate.received_at < utcnow() - older_than)
        )
        return int(result.rowcount)


@dataclass(frozen=True)
class SeenUser:
    """Who sent the message being handled (read-only; change users through UserRepo)."""

    id: int
    channel: str
    chat_id: str
    display_name: str | None
    role: str


class UserRepo:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def touch(
        self,
        channel: str,
        chat_id: str,
        user_id: str,
        display_name: str | None,
        language: str | None,
        now: datetime | None = None,
    ) -> User:
        """Record first contact, or refresh name and last-seen time; the ORM object."""
        store = ChatStore(await self.session.connection())
        seen = await store.user_seen(
            channel, chat_id, user_id, display_name, language, now or utcnow()
        )
        user = await self.session.get(User, seen.id, populate_existing=True)
        assert user is not None
        return user

    async def get(self, channel: str, chat_id: str) -> User | None:
        return await self.session.scalar(
            select(User).where(User.channel == channel, User.chat_id == chat_id)
        )

    async def by_id(self, user_id: int) -> User | None:
        return await self.session.get(User, user_id)

    async def mark_unreachable(self, channel: str, chat_id: str) -> None:
        await self.session.execute(
            update(User)
            .where(User.channel == channel, User.chat_id == chat_id)
            .values(unreachable=True)
        )

    async def set_role(self, channel: str, chat_id: str, role: str) -> bool:
        result = await self.session.execute(
            update(User).where(User.channel == channel, User.chat_id == chat_id).values(role=role)
        )
        return bool(result.rowcount)  # type: ignore[attr-defined]

    async def count(self) -> int:
        from sqlalchemy import func

        return int(await self.session.scalar(select(func.count()).select_from(User)) or 0)


@dataclass(frozen=True, slots=True)
class SavedConversation:
    """A chat's state to write (``ChatStore.save_conversations``)."""

    channel: str
    chat_id: str
    dialogue: str | None
    step: str | None
    data: dict[str, Any]
    last_buttons: list[Any]


@dataclass(frozen=True)
class ConversationRow:
    dialogue: str | None
    step: str | None
    data: dict[str, Any]
    last_buttons: list[Any]


class ConversationRepo:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def lock(self, channel: str, chat_id: str) -> Conversation:
        """The chat's state as an ORM object, created if new, locked (see ChatStore)."""
        await ChatStore(await self.session.connection()).lock_conversation(channel, chat_id)
        conv = await self.session.get(Conversation, (channel, chat_id), populate_existing=True)
        assert conv is not None
        return conv

    async def get(self, channel: str, chat_id: str) -> Conversation | None:
        return await self.session.get(Conversation, (channel, chat_id))


def _build_user_seen(dialect: Any) -> Any:
    insert = dialect.insert(User)
    return (
        insert.values(
            channel=bindparam("channel"),
            chat_id=bindparam("chat_id"),
            user_id=bindparam("user_id"),
            display_name=bindparam("display_name"),
            language=bindparam("language"),
            role="owner",
            unreachable=False,
            first_seen=bindparam("now"),
            last_seen=bindparam("now"),
        )
        .on_conflict_do_update(
            index_elements=[User.channel, User.chat_id],
            set_={
                "last_seen": insert.excluded.last_seen,
                "display_name": func.coalesce(insert.excluded.display_name, User.display_name),
                "language": func.coalesce(insert.excluded.language, User.language),
                # Writing to the bot again means the chat is reachable again.
                "unreachable": False,
            },
        )
        .returning(User.id, User.channel, User.chat_id, User.display_name, User.role)
    )


def _conversation_upsert(dialect: Any, *returning: Any) -> Any:
    """Insert the conversation row if missing, lock it, and return ``returning``."""
    insert = dialect.insert(Conversation)
    return (
        insert.values(
            channel=bindparam("channel"),
            chat_id=bindparam("chat_id"),
            data={},
            last_buttons=[],
            updated_at=bindparam("now"),
        )
        # A no-op update, so that the row is returned and locked when it already exists.
        .on_conflict_do_update(
            index_elements=[Conversation.channel, Conversation.chat_id],
            set_={"channel": insert.excluded.channel},
        )
        .returning(*returning)
    )


_STATE = (Conversation.dialogue, Conversation.step, Conversation.data, Conversation.last_buttons)


def _build_conversation_lock(dialect: Any) -> Any:
    return _conversation_upsert(dialect, *_STATE)


def _build_users_of(dialect: Any) -> Any:
    return select(User.id, User.channel, User.chat_id, User.display_name, User.role).where(
        User.channel == bindparam("channel"),
        User.chat_id.in_(bindparam("chat_ids", expanding=True)),
    )


def _build_conversation_lock_many(dialect: Any) -> Any:
    """The lock statement returning the key too: rows of an executemany come back in no
    particular order."""
    return _conversation_upsert(dialect, Conversation.channel, Conversation.chat_id, *_STATE)


def _build_record_update(dialect: Any) -> Any:
    return (
        dialect.insert(ProcessedUpdate)
        .values(
            channel=bindparam("channel"),
            update_id=bindparam("update_id"),
            received_at=bindparam("received_at"),
        )
        .on_conflict_do_nothing()
        .returning(ProcessedUpdate.update_id)
    )


def _build_conversation_save(dialect: Any) -> Any:
    columns = Conversation.__table__.c
    return (
        update(Conversation)
        .where(
            Conversation.channel == bindparam("key_channel"),
            Conversation.chat_id == bindparam("key_chat_id"),
        )
        .values(
            dialogue=bindparam("dialogue"),
            step=bindparam("step"),
            data=bindparam("data", type_=columns.data.type),
            last_buttons=bindparam("last_buttons", type_=columns.last_buttons.type),
            updated_at=bindparam("now", type_=columns.updated_at.type),
        )
    )


# record_update + lock_conversation in one statement for PostgreSQL.
_PG_RECORD_AND_LOCK = (
    text(
        """
        WITH recorded AS (
            INSERT INTO processed_updates (channel, update_id, received_at)
            VALUES (:channel, :update_id, :now)
            ON CONFLICT DO NOTHING
            RETURNING 1
        ), conversation AS (
            INSERT INTO conversations (channel, chat_id, data, last_buttons, updated_at)
            VALUES (:channel, :chat_id, '{}', '[]', :now)
            ON CONFLICT (channel, chat_id) DO UPDATE SET channel = excluded.channel
            RETURNING dialogue, step, data, last_buttons
        )
        SELECT EXISTS (SELECT 1 FROM recorded) AS first, dialogue, step, data, last_buttons
        FROM conversation
        """
    )
    .bindparams(bindparam("now", type_=Conversation.__table__.c.updated_at.type))
    .columns(
        column("first", Boolean()),
        column("dialogue", String()),
        column("step", String()),
        column("data", Conversation.__table__.c.data.type),
        column("last_buttons", Conversation.__table__.c.last_buttons.type),
    )
)
