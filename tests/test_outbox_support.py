"""Helpers shared by the outbox, reminder and event tests: a controlled clock, a recording
sender, and quick ways to make users, subscriptions and events. (No tests here.)"""

from __future__ import annotations

import asyncio
import heapq
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import select

from bot.channels import PLAIN, SendResult
from bot.types import Reply
from db.models.events import OutboxAttempt, OutboxMessage
from db.repos.core import UserRepo
from db.repos.events import EventData, EventRepo, SubscriptionRepo

VN = ZoneInfo("Asia/Ho_Chi_Minh")


def local(*args: int) -> datetime:
    """A moment given in Vietnam's local time, as UTC."""
    return datetime(*args, tzinfo=VN).astimezone(UTC)  # type: ignore[misc]


class FakeClock:
    """Virtual time. ``sleep(s)`` parks the caller until the clock reaches its deadline; a
    driver task lets the other tasks run, then jumps the clock to the earliest deadline
    and wakes its sleeper, so concurrent sleepers wake in deadline order and nobody waits
    on the wall clock."""

    def __init__(self, start: datetime) -> None:
        self.t = start
        self.slept: list[float] = []
        self._sleepers: list[tuple[datetime, int, asyncio.Future[None]]] = []
        self._seq = 0
        self._driver: asyncio.Task[None] | None = None

    def now(self) -> datetime:
        return self.t

    async def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        if seconds <= 0:
            await asyncio.sleep(0)
            return
        future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._seq += 1
        heapq.heappush(self._sleepers, (self.t + timedelta(seconds=seconds), self._seq, future))
        if self._driver is None or self._driver.done():
            self._driver = asyncio.create_task(self._drive())
        await future

    async def _drive(self) -> None:
        while self._sleepers:
            for _ in range(30):  # let every runnable task reach its next sleep
                await asyncio.sleep(0)
            if not self._sleepers:
                return
            target, _, future = heapq.heappop(self._sleepers)
            if target > self.t:
                self.t = target
            if not future.done():
                future.set_result(None)

    def advance(self, **delta: float) -> None:
        self.t += timedelta(**delta)

    def set(self, moment: datetime) -> None:
        self.t = moment


@dataclass
class RecordingSender:
    """A channel that records what it delivers (with the clock's time); ``fail`` maps a
    chat id to the outcomes of its next sends, ``crash_after`` raises ``Crash`` on the
    n-th call (before delivering), ``delay`` yields that many times per send."""

    clock: Any
    fail: dict[str, list[SendResult]] = field(default_factory=dict)
    crash_after: int | None = None
    delivered: list[tuple[str, str, datetime]] = field(default_factory=list)
    calls: list[tuple[str, datetime]] = field(default_factory=list)
    delay: int = 0

    capabilities = PLAIN

    async def send(self, chat_id: str, reply: Reply) -> SendResult:
        self.calls.append((chat_id, self.clock.now()))
        if self.crash_after is not None and len(self.calls) >= self.crash_after:
            raise Crash()
        for _ in range(self.delay):
            await asyncio.sleep(0)
        outcomes = self.fail.get(chat_id)
        if outcomes:
            return outcomes.pop(0)
        self.delivered.append((chat_id, reply.text, self.clock.now()))
        return SendResult.sent()

    def to(self, chat_id: str) -> list[str]:
        return [text for c, text, _ in self.delivered if c == chat_id]


class Crash(BaseException):
    """The process dies here (not an error the sender may handle)."""


async def make_user(session: Any, chat_id: str, channel: str = "telegram") -> Any:
    return await UserRepo(session).touch(channel, chat_id, chat_id, f"Người {chat_id}", "vi")


async def subscribe(
    sessions: Any,
    chat_id: str,
    *,
    kinds: list[str] | None = None,
    province: str | None = None,
    sectors: list[str] | None = None,
    active: bool = True,
) -> None:
    async with sessions() as session, session.begin():
        user = await make_user(session, chat_id)
        repo = SubscriptionRepo(session)
        await repo.save(
            user.id,
            kinds=kinds or [],
            province=province,
            sectors=sectors or [],
            now=datetime.now(UTC),
        )
        if not active:
            await repo.deactivate(user.id, datetime.now(UTC))


async def add_event(sessions: Any, now: datetime, **fields: Any) -> int:
    from handlers.reminders.scheduling import event_changed

    values: dict[str, Any] = {"title": "Hạn nộp hồ sơ khuyến công 2027", "kind": "deadline"}
    values.update(fields)
    async with sessions() as session, session.begin():
        event, _ = await EventRepo(session).upsert(EventData(**values), now)
        await event_changed(session, event, now)
        return event.id


async def outbox_rows(sessions: Any) -> list[OutboxMessage]:
    async with sessions() as session:
        return list(await session.scalars(select(OutboxMessage).order_by(OutboxMessage.id)))


async def attempts(sessions: Any, row_id: int | None = None) -> list[OutboxAttempt]:
    async with sessions() as session:
        query = select(OutboxAttempt).order_by(OutboxAttempt.id)
        if row_id is not None:
            query = query.where(OutboxAttempt.outbox_id == row_id)
        return list(await session.scalars(query))


def sessions_for(url: str) -> tuple[Any, Callable[[], Any]]:
    from db.session import create_engine, session_factory

    engine = create_engine(url)
    return engine, session_factory(engine)
