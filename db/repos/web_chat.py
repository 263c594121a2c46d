"""The web chat's transcript, read from where the messages already are.

A visitor's messages are the ``web`` channel's inbox rows; the bot's are its outbox rows
once the sender marked them sent. Nothing is written twice, so the transcript can neither
lose nor double a message across a restart, and the retention settings prune it with the
rest (inbox rows after ``KCBOT_RETENTION_UPDATE_DAYS``, replies after
``KCBOT_RETENTION_OUTBOX_DAYS``).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from db.models.core import InboxEvent
from db.models.events import OutboxMessage
from db.repos.outbox import SENT


@dataclass(frozen=True, slots=True)
class ChatLine:
    """One message of the transcript, as the page shows it."""

    # "u:<client id>" for the visitor's, "b:<outbox id>:<sent time>" for the bot's: SQLite
    # hands out an erased chat's outbox ids again, and the page must not take a new reply
    # for one it already shows.
    key: str
    who: str  # "user" or "bot"
    text: str
    at: datetime  # received (visitor) or sent (bot)
    buttons: list[Any]  # rows of [label, payload]
    file_id: int | None = None
    file_name: str | None = None


def _user_text(incoming: dict[str, Any], raw: str | None) -> str:
    text = incoming.get("text")
    if isinstance(text, str) and text:
        return text
    label = None
    if raw:
        import json

        try:
            label = json.loads(raw).get("label")
        except (ValueError, AttributeError):
            label = None
    return label if isinstance(label, str) and label else "(đã chọn)"


class WebChatRepo:
    def __init__(self, session: AsyncSession, channel: str) -> None:
        self.session = session
        self.channel = channel

    async def lines(self, chat_id: str, since: datetime | None, limit: int = 200) -> list[ChatLine]:
        """The chat's messages stored (visitor) or sent (bot) at or after ``since``; without
        ``since``, its last ``limit`` messages. Oldest first."""
        inbox = select(
            InboxEvent.external_id, InboxEvent.incoming, InboxEvent.raw, InboxEvent.received_at
        ).where(InboxEvent.channel == self.channel, InboxEvent.chat_id == chat_id)
        outbox = select(
            OutboxMessage.id,
            OutboxMessage.text,
            OutboxMessage.buttons,
            OutboxMessage.sent_at,
            OutboxMessage.document_name,
            OutboxMessage.document.is_not(None),
        ).where(
            OutboxMessage.channel == self.channel,
            OutboxMessage.chat_id == chat_id,
            OutboxMessage.status == SENT,
        )
        if since is not None:
            inbox = inbox.where(InboxEvent.received_at >= since)
            outbox = outbox.where(OutboxMessage.sent_at >= since)
        inbox = inbox.order_by(InboxEvent.id.desc()).limit(limit)
        outbox = outbox.order_by(OutboxMessage.sent_at.desc(), OutboxMessage.id.desc()).limit(limit)
        out: list[ChatLine] = []
        prefix = f"{chat_id}:"
        for external_id, incoming, raw, received_at in await self.session.execute(inbox):
            if not incoming and raw is None:
                continue  # emptied when the visitor erased their data (/xoadulieu)
            client_id = external_id.removeprefix(prefix)
            text = _user_text(incoming or {}, raw)
            out.append(ChatLine(f"u:{client_id}", "user", text, received_at, []))
        for row_id, text, buttons, sent_at, doc_name, has_doc in await self.session.execute(outbox):
            out.append(
                ChatLine(
                    f"b:{row_id}:{sent_at.timestamp() if sent_at else 0:.6f}",
                    "bot",
                    text,
                    sent_at,
                    buttons or [],
                    file_id=row_id if has_doc else None,
                    file_name=doc_name if has_doc else None,
                )
            )
        out.sort(key=lambda line: (line.at, line.who == "bot"))
        return out[-limit:]

    async def document(self, chat_id: str, row_id: int) -> tuple[str, bytes] | None:
        """A file the bot sent to this chat (name, content); None for anyone else's."""
        row = (
            await self.session.execute(
                select(OutboxMessage.document_name, OutboxMessage.document).where(
                    OutboxMessage.id == row_id,
                    OutboxMessage.channel == self.channel,
                    OutboxMessage.chat_id == chat_id,
                    OutboxMessage.status == SENT,
                )
            )
        ).first()
        if row is None or row[1] is None:
            return None
        return row[0] or "tep", bytes(row[1])
