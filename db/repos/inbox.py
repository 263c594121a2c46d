"""The inbox's SQL: store incoming events once, claim them in order per chat with a lease.

A worker claims the oldest open event of each chat whose earlier events are all finished,
so one chat's messages are handled one after the other even with several workers; on
PostgreSQL candidates are taken ``FOR UPDATE SKIP LOCKED`` so two workers never wait on or
take the same row. The claim stamps the row with the worker's token and a lease; the
engine marks it done only while that claim holds, in the transaction that saves the
dialogue state and queues the replies. A row whose worker died is claimed again once its
lease has passed.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import and_, delete, exists, func, or_, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncConnection
from sqlalchemy.orm import aliased

from db.models.core import InboxEvent

PENDING, PROCESSING, DONE, FAILED = "pending", "processing", "done", "failed"
OPEN = (PENDING, PROCESSING)


@dataclass(frozen=True, slots=True)
class NewEvent:
    channel: str
    external_id: str
    chat_id: str
    incoming: dict[str, Any]
    raw: str | None = None


@dataclass(frozen=True, slots=True)
class ClaimedEvent:
    id: int
    channel: str
    chat_id: str
    incoming: dict[str, Any]
    attempts: int


def _claimable(now: datetime) -> Any:
    return or_(
        InboxEvent.state == PENDING,
        and_(InboxEvent.state == PROCESSING, InboxEvent.claimed_until < now),
    )


class InboxRepo:
    def __init__(self, conn: AsyncConnection) -> None:
        self.conn = conn

    @property
    def _postgres(self) -> bool:
        return self.conn.dialect.name == "postgresql"

    async def accept_many(self, events: Sequence[NewEvent], now: datetime) -> int:
        """Store the events not stored before (by channel and external id); how many new."""
        if not events:
            return 0
        insert = postgresql.insert if self._postgres else sqlite.insert
        stmt = insert(InboxEvent).on_conflict_do_nothing().returning(InboxEvent.id)
        values = [
            {
                "channel": e.channel,
                "external_id": e.external_id,
                "chat_id": e.chat_id,
                "incoming": e.incoming,
                "raw": e.raw,
                "state": PENDING,
                "attempts": 0,
                "received_at": now,
            }
            for e in events
        ]
        result = await self.conn.execute(stmt, values)
        return len(result.all())

    async def claim(
        self,
        token: str,
        now: datetime,
        lease: timedelta,
        limit: int,
        channels: Iterable[str],
    ) -> list[ClaimedEvent]:
        """Take up to ``limit`` events, at most one per chat (its oldest open one)."""
        earlier = aliased(InboxEvent)
        candidates = (
            select(InboxEvent.id)
            .where(
                _claimable(now),
                InboxEvent.channel.in_(list(channels)),
                ~exists().where(
                    earlier.channel == InboxEvent.channel,
                    earlier.chat_id == InboxEvent.chat_id,
                    earlier.id < InboxEvent.id,
                    earlier.state.in_(OPEN),
                ),
            )
            .order_by(InboxEvent.id)
            .limit(limit)
        )
        if self._postgres:
            candidates = candidates.with_for_update(skip_locked=True, of=InboxEvent)
        # A materialised CTE, evaluated once: PostgreSQL may run an IN (… LIMIT … SKIP
        # LOCKED) subquery more than once and so take more rows than the limit.
        chosen = candidates.cte("chosen").prefix_with("MATERIALIZED")
        stmt = (
            update(InboxEvent)
            .where(InboxEvent.id == chosen.c.id, _claimable(now))
            .values(
                state=PROCESSING,
                claimed_by=token,
                claimed_until=now + lease,
                attempts=InboxEvent.attempts + 1,
            )
            .returning(
                InboxEvent.id,
                InboxEvent.channel,
                InboxEvent.chat_id,
                InboxEvent.incoming,
                InboxEvent.attempts,
            )
        )
        rows = (await self.conn.execute(stmt)).all()
        return [ClaimedEvent(*row) for row in sorted(rows, key=lambda r: r[0])]

    async def finish(
        self, event_id: int, token: str, now: datetime, state: str = DONE, error: str | None = None
    ) -> bool:
        """Mark a claimed event done or failed; False if the claim was lost meanwhile."""
        result = await self.conn.execute(
            update(InboxEvent)
            .where(
                InboxEvent.id == event_id,
                InboxEvent.claimed_by == token,
                InboxEvent.state == PROCESSING,
            )
            .values(state=state, handled_at=now, claimed_until=None, error=error)
        )
        return bool(result.rowcount)

    async def finish_many(self, ids: Sequence[int], token: str, now: datetime) -> set[int]:
        """Mark claimed events done in one statement; the ids whose claim still held (the
        others were taken over by another worker and must not be handled here)."""
        if not ids:
            return set()
        result = await self.conn.execute(
            update(InboxEvent)
            .where(
                InboxEvent.id.in_(list(ids)),
                InboxEvent.claimed_by == token,
                InboxEvent.state == PROCESSING,
            )
            .values(state=DONE, handled_at=now, claimed_until=None, error=None)
            .returning(InboxEvent.id)
        )
        return {row[0] for row in result}

    async def release(self, ids: Sequence[int], token: str) -> None:
        """Hand claimed, unhandled events back (a clean stop)."""
        if not ids:
            return
        await self.conn.execute(
            update(InboxEvent)
            .where(
                InboxEvent.id.in_(list(ids)),
                InboxEvent.claimed_by == token,
                InboxEvent.state == PROCESSING,
            )
            .values(state=PENDING, claimed_by=None, claimed_until=None)
        )

    async def counts(self) -> dict[str, int]:
        rows = await self.conn.execute(
            select(InboxEvent.state, func.count()).group_by(InboxEvent.state)
        )
        return {state: int(n) for state, n in rows.all()}

    async def count_finished(self, before: datetime) -> int:
        """How many finished events ``prune(before)`` would delete."""
        return int(
            await self.conn.scalar(
                select(func.count())
                .select_from(InboxEvent)
                .where(InboxEvent.state.in_((DONE, FAILED)), InboxEvent.received_at < before)
            )
            or 0
        )

    async def prune(self, before: datetime) -> int:
        """Forget finished events received before ``before``."""
        result = await self.conn.execute(
            delete(InboxEvent).where(
                InboxEvent.state.in_((DONE, FAILED)), InboxEvent.received_at < before
            )
        )
        return int(result.rowcount)
