"""Answers given by the FAQ and the users' 👍/👎 on them."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from db.models.base import utcnow
from db.models.faq_feedback import FEEDBACK_KINDS, FaqFeedback

MAX_QUESTION = 1000


@dataclass(frozen=True)
class EntryStats:
    entry_id: str
    given: int = 0
    up: int = 0
    down: int = 0


class FeedbackRepo:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def add(
        self, channel: str, chat_id: str, entry_id: str, kind: str, question: str | None = None
    ) -> FaqFeedback:
        if kind not in FEEDBACK_KINDS:
            raise ValueError(f"unknown feedback kind {kind!r}")
        row = FaqFeedback(
            channel=channel,
            chat_id=str(chat_id),
            entry_id=entry_id[:64],
            kind=kind,
            question=question[:MAX_QUESTION] if question else None,
            created_at=utcnow(),
        )
        self.session.add(row)
        await self.session.flush()
        return row

    async def stats(self) -> list[EntryStats]:
        """Per entry: how often it was given, liked and disliked; most given first."""
        rows = await self.session.execute(
            select(FaqFeedback.entry_id, FaqFeedback.kind, func.count()).group_by(
                FaqFeedback.entry_id, FaqFeedback.kind
            )
        )
        counts: dict[str, dict[str, int]] = {}
        for entry_id, kind, n in rows:
            counts.setdefault(entry_id, {})[kind] = int(n)
        out = [
            EntryStats(e, c.get("given", 0), c.get("up", 0), c.get("down", 0))
            for e, c in counts.items()
        ]
        return sorted(out, key=lambda s: (-s.given, -s.down, s.entry_id))

    async def disliked(self, limit: int = 100) -> list[FaqFeedback]:
        """The newest 👎 with their questions."""
        stmt = (
            select(FaqFeedback)
            .where(FaqFeedback.kind == "down")
            .order_by(FaqFeedback.created_at.desc(), FaqFeedback.id.desc())
            .limit(limit)
        )
        return list((await self.session.scalars(stmt)).all())
