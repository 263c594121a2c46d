"""Helpers for the handoff tests: give a chat a role, read what the outbox holds for a chat."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from db.models.events import OutboxMessage
from db.repos.core import UserRepo


async def set_role(app: Any, chat: Any, role: str) -> None:
    """The chat must have written once (the user row exists)."""
    async with app.sessions() as session, session.begin():
        assert await UserRepo(session).set_role(chat.channel, chat.chat_id, role)


async def queued_for(app: Any, chat_id: str) -> list[OutboxMessage]:
    """Rows queued for a chat other than the one being answered (bulk rows)."""
    async with app.sessions() as session:
        rows = await session.scalars(
            select(OutboxMessage)
            .where(OutboxMessage.chat_id == chat_id, OutboxMessage.priority != 0)
            .order_by(OutboxMessage.id)
        )
        return list(rows.all())


def payloads_of(row: Any) -> list[str]:
    return [payload for r in row.buttons or [] for _label, payload in r]
