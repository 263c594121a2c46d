"""Counts for the staff overview: rows created in a time range, per day, per status, per
channel. Every count is one indexed query; nothing is loaded row by row."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import and_, case, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from db.models.core import User
from db.models.drafts import Draft
from db.models.events import OutboxMessage, Subscription
from db.models.faq import UnansweredQuestion
from db.models.faq_feedback import FaqFeedback
from db.models.handoff import Lead, Ticket

# What each kind of record counts by: its creation time, and an optional condition.
_COUNTED: dict[str, tuple[Any, Any]] = {
    "answered": (FaqFeedback.created_at, FaqFeedback.kind == "given"),
    "unanswered": (UnansweredQuestion.created_at, None),
    "tickets": (Ticket.created_at, None),
    "drafts_confirmed": (Draft.confirmed_at, None),
    "leads": (Lead.created_at, None),
    "users": (User.first_seen, None),
}


class StatsRepo:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def per_range(self, kind: str, bounds: Sequence[datetime]) -> list[int]:
        """How many ``kind`` records were created in each range [bounds[i], bounds[i+1]),
        in one query (bounds ascending)."""
        column, condition = _COUNTED[kind]
        sums = [
            func.coalesce(func.sum(case((and_(column >= lo, column < hi), 1), else_=0)), 0)
            for lo, hi in zip(bounds, bounds[1:], strict=False)
        ]
        query = select(*sums).where(column >= bounds[0], column < bounds[-1])
        if condition is not None:
            query = query.where(condition)
        row = (await self.session.execute(query)).one()
        return [int(n) for n in row]

    async def by_value(self, column: Any) -> dict[str, int]:
        rows = await self.session.execute(select(column, func.count()).group_by(column))
        return {str(value): int(n) for value, n in rows.all()}

    async def drafts_by_status(self) -> dict[str, int]:
        return await self.by_value(Draft.status)

    async def leads_by_status(self) -> dict[str, int]:
        return await self.by_value(Lead.status)

    async def open_tickets(self) -> int:
        query = select(func.count()).select_from(Ticket).where(Ticket.status != "closed")
        return int(await self.session.scalar(query) or 0)

    async def users_by_channel(self) -> dict[str, int]:
        return await self.by_value(User.channel)

    async def subscribers_by_channel(self) -> dict[str, int]:
        rows = await self.session.execute(
            select(User.channel, func.count())
            .select_from(Subscription)
            .join(User, User.id == Subscription.user_id)
            .where(Subscription.active.is_(True))
            .group_by(User.channel)
        )
        return {str(channel): int(n) for channel, n in rows.all()}

    async def outbox_health(self, now: datetime, since: datetime) -> dict[str, int]:
        """due: waiting to go now; scheduled: waiting for their time; sending: claimed;
        failed / sent: finished since ``since``."""
        queued = await self.session.execute(
            select(
                func.coalesce(func.sum(case((OutboxMessage.not_before <= now, 1), else_=0)), 0),
                func.count(),
            ).where(OutboxMessage.status == "pending")
        )
        due, pending = (int(n) for n in queued.one())
        sending = await self.session.scalar(
            select(func.count()).select_from(OutboxMessage).where(OutboxMessage.status == "sending")
        )
        finished = await self.session.execute(
            select(OutboxMessage.status, func.count())
            .where(OutboxMessage.status.in_(("sent", "failed")), OutboxMessage.updated_at >= since)
            .group_by(OutboxMessage.status)
        )
        done = {str(status): int(n) for status, n in finished.all()}
        oldest = await self.session.scalar(
            select(func.min(OutboxMessage.not_before)).where(
                OutboxMessage.status == "pending", OutboxMessage.not_before <= now
            )
        )
        waited = int((now - oldest).total_seconds()) if oldest is not None else 0
        return {
            "due": due,
            "scheduled": pending - due,
            "sending": int(sending or 0),
            "failed": done.get("failed", 0),
            "sent": done.get("sent", 0),
            "oldest_due_seconds": max(0, waited),
        }
