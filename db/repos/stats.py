"""Counts for the staff overview: rows created in time ranges, per day, per status, per
channel. Each figure is one aggregate query (the overview makes eight), never rows loaded
one by one."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from itertools import pairwise
from typing import Any

from sqlalchemy import and_, case, func, or_, select
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
}
# Grouped counts: the column grouped by and the moment counted in ranges.
_GROUPED: dict[str, tuple[Any, Any]] = {
    "drafts": (Draft.status, Draft.confirmed_at),
    "leads": (Lead.status, Lead.created_at),
    "tickets": (Ticket.status, Ticket.created_at),
    "users": (User.channel, User.first_seen),
}


def _in_ranges(moment: Any, bounds: Sequence[datetime]) -> list[Any]:
    """One SUM per range [bounds[i], bounds[i+1]) of ``moment``."""
    return [
        func.coalesce(func.sum(case((and_(moment >= lo, moment < hi), 1), else_=0)), 0)
        for lo, hi in pairwise(bounds)
    ]


class StatsRepo:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def per_range(self, kind: str, bounds: Sequence[datetime]) -> list[int]:
        """How many ``kind`` records were created in each range [bounds[i], bounds[i+1]),
        in one query over the ranges only (bounds ascending; the time column is indexed)."""
        column, condition = _COUNTED[kind]
        query = select(*_in_ranges(column, bounds)).where(column >= bounds[0], column < bounds[-1])
        if condition is not None:
            query = query.where(condition)
        row = (await self.session.execute(query)).one()
        return [int(n) for n in row]

    async def grouped(
        self, kind: str, bounds: Sequence[datetime]
    ) -> dict[str, tuple[int, list[int]]]:
        """Per value of the kind's group (status, channel): how many rows in all, and how
        many fall in each range of its moment (confirmed, registered, created, first seen)."""
        group, moment = _GROUPED[kind]
        rows = await self.session.execute(
            select(group, func.count(), *_in_ranges(moment, bounds)).group_by(group)
        )
        return {str(r[0]): (int(r[1]), [int(n) for n in r[2:]]) for r in rows.all()}

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
        failed / sent: finished since ``since``; how long the oldest due row has waited."""
        status, when = OutboxMessage.status, OutboxMessage.not_before
        due = and_(status == "pending", when <= now)

        def count(condition: Any) -> Any:
            return func.coalesce(func.sum(case((condition, 1), else_=0)), 0)

        row = (
            await self.session.execute(
                select(
                    count(due),
                    count(and_(status == "pending", when > now)),
                    count(status == "sending"),
                    count(status == "failed"),
                    count(status == "sent"),
                    func.min(case((due, when), else_=None)),
                ).where(
                    or_(
                        status.in_(("pending", "sending")),
                        and_(status.in_(("sent", "failed")), OutboxMessage.updated_at >= since),
                    )
                )
            )
        ).one()
        oldest = row[5]
        if isinstance(oldest, str):  # in case a backend hands MIN() back as text
            oldest = datetime.fromisoformat(oldest)
        if oldest is not None and oldest.tzinfo is None:  # stored in UTC
            oldest = oldest.replace(tzinfo=UTC)
        waited = int((now - oldest).total_seconds()) if oldest is not None else 0
        return {
            "due": int(row[0]),
            "scheduled": int(row[1]),
            "sending": int(row[2]),
            "failed": int(row[3]),
            "sent": int(row[4]),
            "oldest_due_seconds": max(0, waited),
        }
