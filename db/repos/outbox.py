"""The outbox's SQL: enqueue idempotently, claim with a lease, record outcomes.

Claiming is safe with several sender processes: on PostgreSQL candidates are selected
``FOR UPDATE SKIP LOCKED`` (two workers never wait on or take the same row); on both
backends the claim itself is a conditional UPDATE that re-checks the row is still free and
stamps it with the claimer's token, and the worker then only sends the rows carrying its
token.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import and_, bindparam, func, insert, or_, select, update
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession

from bot.types import Button, Document, Reply
from db.models.core import User
from db.models.events import OutboxAttempt, OutboxMessage
from db.repos.core import dialect_insert, is_postgres

PENDING, SENDING, SENT, FAILED, CANCELLED = "pending", "sending", "sent", "failed", "cancelled"


@dataclass(frozen=True, slots=True)
class NewMessage:
    campaign: str
    channel: str
    chat_id: str
    text: str
    buttons: list[Any]
    not_before: datetime


DIRECT, BULK = 0, 1


@dataclass(frozen=True, slots=True)
class DirectReply:
    """A reply queued in the transaction that handled the message it answers."""

    id: int
    channel: str
    chat_id: str
    reply: Reply


async def insert_direct(
    conn: AsyncConnection,
    *,
    campaign: str,
    channel: str,
    chat_id: str,
    replies: Sequence[Reply],
    token: str,
    now: datetime,
    lease: timedelta,
) -> list[DirectReply]:
    """Queue the replies to one message, already claimed by ``token`` for ``lease``: the
    process that handled the message sends them at once; if it dies, any sender takes
    them when the lease has passed. ``campaign:i`` keys each reply (idempotency)."""
    if not replies:
        return []
    values = [
        {
            "campaign": f"{campaign}:{i}",
            "channel": channel,
            "chat_id": chat_id,
            "text": r.text,
            "buttons": [[[b.label, b.payload] for b in row] for row in r.buttons],
            "status": SENDING,
            "priority": DIRECT,
            "not_before": now,
            "attempts": 0,
            "claimed_by": token,
            "claimed_until": now + lease,
            "created_at": now,
            "updated_at": now,
            "document_name": r.document.filename if r.document else None,
            "document": r.document.content if r.document else None,
            "document_caption": r.document.caption if r.document else None,
            "request_phone": r.request_phone,
        }
        for i, r in enumerate(replies)
    ]
    stmt = insert(OutboxMessage).returning(OutboxMessage.id, sort_by_parameter_order=True)
    ids = [row[0] for row in (await conn.execute(stmt, values)).all()]
    return [DirectReply(i, channel, chat_id, r) for i, r in zip(ids, replies, strict=True)]


def reply_of(row: Any) -> Reply:
    """The ``Reply`` an outbox row holds."""
    document = None
    if row.document is not None:
        document = Document(
            row.document_name or "tep", bytes(row.document), caption=row.document_caption
        )
    return Reply(
        row.text,
        buttons=[[Button(label, payload) for label, payload in r] for r in row.buttons or []],
        document=document,
        request_phone=bool(row.request_phone),
    )


def _free(now: datetime) -> Any:
    """A row a worker may take: pending and due, or sending with an expired lease."""
    return or_(
        and_(OutboxMessage.status == PENDING, OutboxMessage.not_before <= now),
        and_(OutboxMessage.status == SENDING, OutboxMessage.claimed_until < now),
    )


class OutboxRepo:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def enqueue_many(self, messages: Sequence[NewMessage], now: datetime) -> int:
        """Insert the rows not present yet; returns how many were new."""
        if not messages:
            return 0
        values = [
            {
                "campaign": m.campaign,
                "channel": m.channel,
                "chat_id": m.chat_id,
                "text": m.text,
                "buttons": m.buttons,
                "status": PENDING,
                "not_before": m.not_before,
                "attempts": 0,
                "created_at": now,
                "updated_at": now,
            }
            for m in messages
        ]
        stmt = (
            dialect_insert(self.session, OutboxMessage)
            .on_conflict_do_nothing()
            .returning(OutboxMessage.id)
        )
        # executemany with RETURNING: batched "insertmanyvalues" on both backends
        result = await self.session.execute(stmt, values)
        return len(result.all())

    async def claim(
        self, token: str, now: datetime, lease: timedelta, limit: int, channels: Iterable[str]
    ) -> list[OutboxMessage]:
        """Take up to ``limit`` due rows for this worker (call inside a transaction)."""
        query = (
            select(OutboxMessage.id)
            .where(_free(now), OutboxMessage.channel.in_(list(channels)))
            .order_by(OutboxMessage.priority, OutboxMessage.not_before, OutboxMessage.id)
            .limit(limit)
        )
        if is_postgres(self.session):
            query = query.with_for_update(skip_locked=True)
        ids = list((await self.session.scalars(query)).all())
        if not ids:
            return []
        await self.session.execute(
            update(OutboxMessage)
            .where(OutboxMessage.id.in_(ids), _free(now))
            .values(status=SENDING, claimed_by=token, claimed_until=now + lease, updated_at=now)
        )
        rows = await self.session.scalars(
            select(OutboxMessage)
            .where(
                OutboxMessage.id.in_(ids),
                OutboxMessage.claimed_by == token,
                OutboxMessage.status == SENDING,
            )
            .order_by(OutboxMessage.priority, OutboxMessage.not_before, OutboxMessage.id)
            .execution_options(populate_existing=True)
        )
        return list(rows.all())

    async def unreachable_chats(self, channel: str, chat_ids: Iterable[str]) -> set[str]:
        ids = list(set(chat_ids))
        if not ids:
            return set()
        rows = await self.session.scalars(
            select(User.chat_id).where(
                User.channel == channel, User.chat_id.in_(ids), User.unreachable.is_(True)
            )
        )
        return set(rows.all())

    async def finish(
        self,
        row_id: int,
        token: str,
        *,
        status: str,
        now: datetime,
        outcome: str,
        error: str | None = None,
        not_before: datetime | None = None,
        count_attempt: bool = True,
    ) -> bool:
        """Record one attempt and move the row on; False if the claim was lost."""
        values: dict[str, Any] = {
            "status": status,
            "updated_at": now,
            "claimed_until": None,
            "last_error": error,
        }
        if count_attempt:
            values["attempts"] = OutboxMessage.attempts + 1
        if status == SENT:
            values["sent_at"] = now
        if status == PENDING:
            values["claimed_by"] = None
            values["not_before"] = not_before or now
        result = await self.session.execute(
            update(OutboxMessage)
            .where(
                OutboxMessage.id == row_id,
                OutboxMessage.claimed_by == token,
                OutboxMessage.status == SENDING,
            )
            .values(**values)
        )
        await self.record_attempt(row_id, now, outcome, error, token)
        return bool(result.rowcount)  # type: ignore[attr-defined]

    async def mark_sent(self, rows: Sequence[tuple[int, str]], now: datetime) -> int:
        """Record many rows as sent by their claimers (``(id, token)``) in two statements;
        how many were still claimed by them."""
        if not rows:
            return 0
        params = [{"row_id": i, "token": t} for i, t in rows]
        table: Any = OutboxMessage.__table__
        stmt = (
            update(table)
            .where(
                table.c.id == bindparam("row_id"),
                table.c.claimed_by == bindparam("token"),
                table.c.status == SENDING,
            )
            .values(
                status=SENT,
                sent_at=now,
                updated_at=now,
                claimed_until=None,
                last_error=None,
                attempts=table.c.attempts + 1,
            )
        )
        conn = await self.session.connection()
        result = await conn.execute(stmt, params)
        await conn.execute(
            insert(OutboxAttempt),
            [{"outbox_id": i, "at": now, "outcome": "sent", "worker": t} for i, t in rows],
        )
        return int(result.rowcount or 0)

    async def record_attempt(
        self, row_id: int, now: datetime, outcome: str, error: str | None, worker: str | None
    ) -> None:
        self.session.add(
            OutboxAttempt(outbox_id=row_id, at=now, outcome=outcome, error=error, worker=worker)
        )
        await self.session.flush()

    async def release(
        self, ids: Iterable[int], token: str, now: datetime, not_before: datetime | None = None
    ) -> None:
        """Give claimed, unsent rows back (shutdown, 429 pause)."""
        ids = list(ids)
        if not ids:
            return
        values: dict[str, Any] = {
            "status": PENDING,
            "claimed_by": None,
            "claimed_until": None,
            "updated_at": now,
        }
        if not_before is not None:
            values["not_before"] = not_before
        await self.session.execute(
            update(OutboxMessage)
            .where(
                OutboxMessage.id.in_(ids),
                OutboxMessage.claimed_by == token,
                OutboxMessage.status == SENDING,
            )
            .values(**values)
        )

    async def fail_chat(self, channel: str, chat_id: str, now: datetime, reason: str) -> int:
        """Fail every unsent row to a chat (the user blocked the bot)."""
        result = await self.session.execute(
            update(OutboxMessage)
            .where(
                OutboxMessage.channel == channel,
                OutboxMessage.chat_id == chat_id,
                OutboxMessage.status == PENDING,
            )
            .values(status=FAILED, last_error=reason, updated_at=now, claimed_by=None)
        )
        return int(result.rowcount or 0)  # type: ignore[attr-defined]

    async def cancel(
        self,
        *,
        campaign_prefix: str,
        now: datetime,
        channel: str | None = None,
        chat_id: str | None = None,
    ) -> int:
        """Cancel pending rows of campaigns starting with ``campaign_prefix``."""
        conditions = [
            OutboxMessage.campaign.startswith(campaign_prefix, autoescape=True),
            OutboxMessage.status == PENDING,
        ]
        if channel is not None:
            conditions.append(OutboxMessage.channel == channel)
        if chat_id is not None:
            conditions.append(OutboxMessage.chat_id == chat_id)
        result = await self.session.execute(
            update(OutboxMessage)
            .where(*conditions)
            .values(status=CANCELLED, updated_at=now, claimed_by=None)
        )
        return int(result.rowcount or 0)  # type: ignore[attr-defined]

    async def delete_pending(
        self, campaign_prefix: str, statuses: tuple[str, ...] = (PENDING,)
    ) -> int:
        """Remove pending rows of a campaign family so they are built again (event changed;
        with ``CANCELLED`` too, an event put back on after a cancellation)."""
        from sqlalchemy import delete

        result = await self.session.execute(
            delete(OutboxMessage).where(
                OutboxMessage.campaign.startswith(campaign_prefix, autoescape=True),
                OutboxMessage.status.in_(statuses),
            )
        )
        return int(result.rowcount or 0)  # type: ignore[attr-defined]

    async def recipients(self, campaign_prefix: str, status: str = SENT) -> set[tuple[str, str]]:
        rows = await self.session.execute(
            select(OutboxMessage.channel, OutboxMessage.chat_id)
            .where(
                OutboxMessage.campaign.startswith(campaign_prefix, autoescape=True),
                OutboxMessage.status == status,
            )
            .distinct()
        )
        return {(c, i) for c, i in rows.all()}

    async def counts(self, campaign_prefix: str | None = None) -> dict[str, int]:
        query = select(OutboxMessage.status, func.count()).group_by(OutboxMessage.status)
        if campaign_prefix:
            query = query.where(OutboxMessage.campaign.startswith(campaign_prefix, autoescape=True))
        rows = await self.session.execute(query)
        result = {PENDING: 0, SENDING: 0, SENT: 0, FAILED: 0, CANCELLED: 0}
        result.update({status: int(n) for status, n in rows.all()})
        return result

    async def next_due(self, now: datetime) -> datetime | None:
        """When the earliest pending row becomes due (for the sender to sleep until)."""
        return await self.session.scalar(
            select(func.min(OutboxMessage.not_before)).where(OutboxMessage.status == PENDING)
        )

    async def campaign_counts(self) -> list[tuple[str, str, int]]:
        rows = await self.session.execute(
            select(OutboxMessage.campaign, OutboxMessage.status, func.count())
            .group_by(OutboxMessage.campaign, OutboxMessage.status)
            .order_by(OutboxMessage.campaign)
        )
        return [(c, s, int(n)) for c, s, n in rows.all()]
