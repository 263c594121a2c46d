"""Repositories for users, conversation state and handled updates."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import delete, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession

from db.models.base import utcnow
from db.models.core import Conversation, ProcessedUpdate, User


def _insert(session: AsyncSession, model: type) -> postgresql.Insert | sqlite.Insert:
    """The dialect's INSERT, which knows ON CONFLICT."""
    if session.get_bind().dialect.name == "postgresql":
        return postgresql.insert(model)
    return sqlite.insert(model)


def _is_postgres(session: AsyncSession) -> bool:
    return session.get_bind().dialect.name == "postgresql"


class UpdateLog:
    """Which updates were handled already (Telegram redelivers after a crash)."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def first_time(self, channel: str, update_id: str) -> bool:
        """Record the update; False if it had been recorded before."""
        stmt = (
            _insert(self.session, ProcessedUpdate)
            .values(channel=channel, update_id=update_id, received_at=utcnow())
            .on_conflict_do_nothing()
        )
        result = await self.session.execute(stmt)
        return bool(result.rowcount)  # type: ignore[attr-defined]

    async def prune(self, older_than: timedelta) -> int:
        stmt = delete(ProcessedUpdate).where(ProcessedUpdate.received_at < utcnow() - older_than)
        result = await self.session.execute(stmt)
        return int(result.rowcount)  # type: ignore[attr-defined]


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
        """Record first contact, or refresh name and last-seen time."""
        now = now or utcnow()
        stmt = (
            _insert(self.session, User)
            .values(
                channel=channel,
                chat_id=chat_id,
                user_id=user_id,
                display_name=display_name,
                language=language,
                role="owner",
                unreachable=False,
                first_seen=now,
                last_seen=now,
            )
            .on_conflict_do_nothing()
        )
        await self.session.execute(stmt)
        user = await self.get(channel, chat_id)
        assert user is not None
        user.last_seen = now
        if display_name:
            user.display_name = display_name
        if language:
            user.language = language
        # Writing to a chat again means it is reachable again (e.g. unblocked the bot).
        user.unreachable = False
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


class ConversationRepo:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def lock(self, channel: str, chat_id: str) -> Conversation:
        """Load the chat's state, creating it, locked until the transaction ends.

        On PostgreSQL the row lock serialises one chat's messages across processes; SQLite
        has a single writer anyway.
        """
        stmt = (
            _insert(self.session, Conversation)
            .values(
                channel=channel,
                chat_id=chat_id,
                data={},
                last_buttons=[],
                updated_at=utcnow(),
            )
            .on_conflict_do_nothing()
        )
        await self.session.execute(stmt)
        query = select(Conversation).where(
            Conversation.channel == channel, Conversation.chat_id == chat_id
        )
        if _is_postgres(self.session):
            query = query.with_for_update()
        conv = await self.session.scalar(query.execution_options(populate_existing=True))
        assert conv is not None
        return conv

    async def get(self, channel: str, chat_id: str) -> Conversation | None:
        return await self.session.get(Conversation, (channel, chat_id))
