"""Zalo OA token pairs: the current one, seeding, and the locked rotation."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import func, insert, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from db.models.zalo import ZaloOABilled, ZaloOAToken


class ZaloTokenRepo:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def current(self) -> ZaloOAToken | None:
        return await self.session.scalar(
            select(ZaloOAToken)
            .where(ZaloOAToken.used.is_(False))
            .order_by(ZaloOAToken.id.desc())
            .limit(1)
            .execution_options(populate_existing=True)
        )

    async def last_refresh(self) -> datetime | None:
        return await self.session.scalar(
            select(func.max(ZaloOAToken.created_at)).where(ZaloOAToken.source == "refreshed")
        )

    async def lock(self) -> None:
        """Take the refresh lock for this transaction: a write on the unused pair (a row
        lock on PostgreSQL, the database's write lock on SQLite). A second refresher waits
        here until the first commits, then finds the pair it rotated already used."""
        await self.session.execute(
            update(ZaloOAToken).where(ZaloOAToken.used.is_(False)).values(used=False)
        )

    async def seed(self, access: str, refresh: str, expires_at: datetime, now: datetime) -> None:
        """An operator's new pair replaces whatever was there."""
        await self.lock()
        await self.session.execute(
            update(ZaloOAToken).where(ZaloOAToken.used.is_(False)).values(used=True, used_at=now)
        )
        await self._insert(access, refresh, expires_at, now, "seeded")

    async def rotate(
        self, old_id: int, access: str, refresh: str, expires_at: datetime, now: datetime
    ) -> None:
        """The new pair in, the old one marked used: same transaction."""
        await self.session.execute(
            update(ZaloOAToken).where(ZaloOAToken.id == old_id).values(used=True, used_at=now)
        )
        await self._insert(access, refresh, expires_at, now, "refreshed")

    async def _insert(
        self, access: str, refresh: str, expires_at: datetime, now: datetime, source: str
    ) -> None:
        await self.session.execute(
            insert(ZaloOAToken).values(
                access_token=access,
                refresh_token=refresh,
                expires_at=expires_at,
                source=source,
                used=False,
                created_at=now,
            )
        )

    async def mark_reachable(self, channel: str, chat_id: str) -> None:
        """A user who follows the OA again can be written to again."""
        from db.models.core import User

        await self.session.execute(
            update(User)
            .where(User.channel == channel, User.chat_id == chat_id, User.unreachable.is_(True))
            .values(unreachable=False)
        )

    async def record_billed(
        self, chat_id: str, sent_at: datetime, last_interaction: datetime | None
    ) -> None:
        await self.session.execute(
            insert(ZaloOABilled).values(
                chat_id=chat_id, sent_at=sent_at, last_interaction=last_interaction
            )
        )

    async def outside_window_count(self) -> int:
        """Outbox rows to OA users refused because of Zalo's 7-day window."""
        from db.models.events import OutboxAttempt, OutboxMessage

        return int(
            await self.session.scalar(
                select(func.count(func.distinct(OutboxAttempt.outbox_id)))
                .join(OutboxMessage, OutboxMessage.id == OutboxAttempt.outbox_id)
                .where(
                    OutboxMessage.channel == "zalo_oa", OutboxAttempt.outcome == "outside_window"
                )
            )
            or 0
        )

    async def billed_count(self) -> int:
        return int(await self.session.scalar(select(func.count()).select_from(ZaloOABilled)) or 0)
