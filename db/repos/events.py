"""Events and reminder subscriptions: the queries handlers and workers need, by name."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from db.models.core import User
from db.models.events import Event, Subscription
from db.repos.core import SeenUser
from knowledge.formats import LOCAL_TZ
from knowledge.normalize import fold_key


def event_key(title: str, kind: str, starts_at: datetime) -> str:
    """The natural key: folded title, kind and local start date."""
    day = starts_at.astimezone(LOCAL_TZ).date().isoformat()
    return f"{fold_key(title)[:200]}|{kind}|{day}"


@dataclass
class EventData:
    title: str
    kind: str
    starts_at: datetime
    ends_at: datetime | None = None
    all_day: bool = True
    place: str | None = None
    provinces: list[str] = field(default_factory=list)
    sectors: list[str] = field(default_factory=list)
    description: str | None = None
    contact: str | None = None
    source: str | None = None

    @property
    def key(self) -> str:
        return event_key(self.title, self.kind, self.starts_at)


_FIELDS = (
    "title",
    "kind",
    "starts_at",
    "ends_at",
    "all_day",
    "place",
    "provinces",
    "sectors",
    "description",
    "contact",
    "source",
)


class EventRepo:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def upsert(self, data: EventData, now: datetime) -> tuple[Event, str]:
        """Insert or update by natural key; returns the event and created|updated|unchanged."""
        event = await self.session.scalar(select(Event).where(Event.key == data.key))
        if event is None:
            event = Event(
                key=data.key,
                cancelled=False,
                created_at=now,
                updated_at=now,
                **{f: getattr(data, f) for f in _FIELDS},
            )
            self.session.add(event)
            await self.session.flush()
            return event, "created"
        changed = False
        for name in _FIELDS:
            value = getattr(data, name)
            if getattr(event, name) != value:
                setattr(event, name, value)
                changed = True
        if event.cancelled:  # imported again: it is on again
            event.cancelled = False
            changed = True
        if changed:
            event.updated_at = now
            await self.session.flush()
        return event, "updated" if changed else "unchanged"

    async def get(self, event_id: int) -> Event | None:
        return await self.session.get(Event, event_id)

    async def find(
        self,
        *,
        after: datetime | None = None,
        before: datetime | None = None,
        include_cancelled: bool = True,
        ids: list[int] | None = None,
    ) -> list[Event]:
        query = select(Event).order_by(Event.starts_at, Event.id)
        if after is not None:
            query = query.where(Event.starts_at >= after)
        if before is not None:
            query = query.where(Event.starts_at <= before)
        if not include_cancelled:
            query = query.where(Event.cancelled.is_(False))
        if ids is not None:
            query = query.where(Event.id.in_(ids))
        return list((await self.session.scalars(query)).all())

    async def upcoming(self, now: datetime, limit: int = 50) -> list[Event]:
        """Events not over yet (started events count until they end), nearest first."""
        from datetime import timedelta

        # fairs and courses last days or weeks, not months
        events = await self.find(after=now - timedelta(days=120), include_cancelled=False)
        result = [e for e in events if _end_of(e) > now]
        return result[:limit]

    async def by_key(self, key: str) -> Event | None:
        return await self.session.scalar(select(Event).where(Event.key == key))

    async def update(self, event: Event, data: EventData, now: datetime) -> bool:
        """Edit one event in place (its natural key follows); True if anything changed."""
        changed = event.key != data.key
        event.key = data.key
        for name in _FIELDS:
            value = getattr(data, name)
            if getattr(event, name) != value:
                setattr(event, name, value)
                changed = True
        if changed:
            event.updated_at = now
            await self.session.flush()
        return changed

    async def page(
        self,
        *,
        ending_from: datetime | None = None,
        ending_before: datetime | None = None,
        cancelled: bool | None = None,
        kind: str | None = None,
        offset: int = 0,
        limit: int = 20,
        newest_first: bool = False,
    ) -> tuple[list[Event], int]:
        """One page of events and how many match; ``ending_*`` bound the end (or, without
        one, the start)."""
        from sqlalchemy import func

        ends = func.coalesce(Event.ends_at, Event.starts_at)
        query = select(Event)
        if ending_from is not None:
            query = query.where(ends >= ending_from)
        if ending_before is not None:
            query = query.where(ends < ending_before)
        if cancelled is not None:
            query = query.where(Event.cancelled.is_(cancelled))
        if kind:
            query = query.where(Event.kind == kind)
        total = await self.session.scalar(select(func.count()).select_from(query.subquery()))
        order = (
            (Event.starts_at.desc(), Event.id.desc())
            if newest_first
            else (
                Event.starts_at,
                Event.id,
            )
        )
        rows = await self.session.scalars(query.order_by(*order).offset(offset).limit(limit))
        return list(rows.all()), int(total or 0)

    async def set_cancelled(
        self, event_id: int, now: datetime, cancelled: bool = True
    ) -> Event | None:
        event = await self.get(event_id)
        if event is None:
            return None
        event.cancelled = cancelled
        event.updated_at = now
        await self.session.flush()
        return event


def _end_of(event: Event) -> datetime:
    from datetime import timedelta

    if event.ends_at is not None:
        end = event.ends_at
        if event.all_day:  # an end given as a date lasts the whole day
            end = end + timedelta(days=1)
        return end
    if event.all_day:
        return event.starts_at + timedelta(days=1)
    return event.starts_at


class SubscriptionRepo:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def get(self, user_id: int) -> Subscription | None:
        return await self.session.scalar(
            select(Subscription).where(Subscription.user_id == user_id)
        )

    async def save(
        self,
        user_id: int,
        *,
        kinds: list[str],
        province: str | None,
        sectors: list[str],
        now: datetime,
    ) -> Subscription:
        sub = await self.get(user_id)
        if sub is None:
            sub = Subscription(user_id=user_id, created_at=now)
            self.session.add(sub)
        sub.active = True
        sub.kinds = list(kinds)
        sub.province = province
        sub.sectors = list(sectors)
        sub.updated_at = now
        await self.session.flush()
        return sub

    async def deactivate(self, user_id: int, now: datetime) -> bool:
        sub = await self.get(user_id)
        if sub is None or not sub.active:
            return False
        sub.active = False
        sub.updated_at = now
        await self.session.flush()
        return True

    async def active_with_users(self) -> list[tuple[Subscription, User]]:
        rows = await self.session.execute(
            select(Subscription, User)
            .join(User, User.id == Subscription.user_id)
            .where(Subscription.active.is_(True), User.unreachable.is_(False))
            .order_by(Subscription.id)
        )
        return [(s, u) for s, u in rows.all()]

    async def count_active(self) -> int:
        from sqlalchemy import func

        return int(
            await self.session.scalar(
                select(func.count()).select_from(Subscription).where(Subscription.active)
            )
            or 0
        )


async def latest_draft_province(session: AsyncSession, user: SeenUser) -> str | None:
    """The province of the user's latest draft application, as the intake stored it."""
    from db.models.drafts import Draft

    return await session.scalar(
        select(Draft.province)
        .where(Draft.user_id == user.id, Draft.province.is_not(None))
        .order_by(Draft.id.desc())
        .limit(1)
    )
