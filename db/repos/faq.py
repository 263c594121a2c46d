"""Repository of questions the FAQ could not answer."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import func, select, update
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

    async def get(self, question_id: int) -> UnansweredQuestion | None:
        return await self.session.get(UnansweredQuestion, question_id)

    async def groups(
        self, offset: int, limit: int
    ) -> tuple[int, Sequence[tuple[UnansweredQuestion, int]]]:
        """Unresolved questions grouped by their normalised text, the most recently asked
        first: (how many groups, [(the latest question of a group, times asked)])."""
        q = UnansweredQuestion
        grouped = (
            select(
                func.max(q.id).label("last_id"),
                func.count().label("times"),
                func.max(q.created_at).label("last_at"),
            )
            .where(q.resolved.is_(False))
            .group_by(q.normalized)
            .subquery()
        )
        total = await self.session.scalar(select(func.count()).select_from(grouped))
        rows = (
            await self.session.execute(
                select(q, grouped.c.times)
                .join(grouped, q.id == grouped.c.last_id)
                .order_by(grouped.c.last_at.desc(), q.id.desc())
                .offset(offset)
                .limit(limit)
            )
        ).all()
        return int(total or 0), [(row[0], int(row[1])) for row in rows]

    async def resolve_group(self, question_id: int) -> int:
        """Mark a question and every other way it was typed (same normalised text) as
        handled; returns how many."""
        row = await self.get(question_id)
        if row is None:
            return 0
        result = await self.session.execute(
            update(UnansweredQuestion)
            .where(
                UnansweredQuestion.normalized == row.normalized,
                UnansweredQuestion.resolved.is_(False),
            )
            .values(resolved=True)
        )
        return int(result.rowcount)  # type: ignore[attr-defined]
