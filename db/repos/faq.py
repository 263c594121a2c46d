"""Repository of questions the FAQ could not answer."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from db.models.base import utcnow
from db.models.faq import UnansweredQuestion

MAX_TEXT = 2000


def _candidate_dicts(candidates: Sequence[Any]) -> list[dict[str, Any]]:
    """Accept matcher Candidates or plain dicts; store plain JSON."""
    out: list[dict[str, Any]] = []
    for c in candidates:
        if isinstance(c, dict):
            out.append({"id": c.get("id"), "topic": c.get("topic"), "score": c.get("score")})
        else:
            out.append({"id": c.entry_id, "topic": c.topic, "score": round(float(c.score), 4)})
    return out


class UnansweredRepo:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def add(
        self, channel: str, chat_id: str, text: str, candidates: Sequence[Any] = ()
    ) -> UnansweredQuestion:
        from knowledge.normalize import normalize

        text = text[:MAX_TEXT]
        row = UnansweredQuestion(
            channel=channel,
            chat_id=str(chat_id),
            text=text,
            normalized=normalize(text),
            candidates=_candidate_dicts(candidates),
            created_at=utcnow(),
            resolved=False,
        )
        self.session.add(row)
        await self.session.flush()
        return row

    async def list(
        self, limit: int = 100, include_resolved: bool = False
    ) -> list[UnansweredQuestion]:
        """Newest first."""
        stmt = select(UnansweredQuestion).order_by(
            UnansweredQuestion.created_at.desc(), UnansweredQuestion.id.desc()
        )
        if not include_resolved:
            stmt = stmt.where(UnansweredQuestion.resolved.is_(False))
        return list((await self.session.scalars(stmt.limit(limit))).all())

    async def resolve(self, question_id: int) -> bool:
        result = await self.session.execute(
            update(UnansweredQuestion)
            .where(UnansweredQuestion.id == question_id)
            .values(resolved=True)
        )
        return bool(result.rowcount)  # type: ignore[attr-defined]
