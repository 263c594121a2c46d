"""The durable inbox: transports store what arrives; workers handle it and send the replies.

A transport calls ``Inbox.accept`` and only then tells the platform the event arrived
(moves the polling offset, answers the webhook). ``InboxWorker`` claims stored events — in
order per chat, with a lease — has the engine handle each one (state and replies committed
together), then sends the replies at once through the outbox sender. A worker that dies
leaves its claims to expire: the events are handled again, the replies sent by whoever
takes them. An event that took its worker down ``max_attempts`` times is given up with an
apology to the user instead of being tried forever.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import socket
import uuid
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from sqlalchemy.ext.asyncio import AsyncEngine

from bot.outage import Outage
from bot.types import Incoming, incoming_to_json
from db.models.base import utcnow
from db.repos.inbox import ClaimedEvent, InboxRepo, NewEvent

log = logging.getLogger(__name__)


def event_of(incoming: Incoming, external_id: str, raw: str | None = None) -> NewEvent:
    return NewEvent(
        channel=incoming.channel,
        external_id=external_id,
        chat_id=incoming.chat_id,
        incoming=incoming_to_json(incoming),
        raw=raw,
    )


class Inbox:
    """Where transports put incoming events. ``accept`` returns once they are committed."""

    def __init__(self, db: AsyncEngine) -> None:
        self.db = db
        self._listeners: list[Callable[[], None]] = []

    def on_accept(self, listener: Callable[[], None]) -> None:
        self._listeners.append(listener)

    async def accept(self, events: Sequence[NewEvent]) -> int:
        """Store the events (a duplicate external id is stored once); how many were new."""
        if not events:
            return 0
        async with self.db.begin() as conn:
            new = await InboxRepo(conn).accept_many(events, utcnow())
        if new:
            for listener in self._listeners:
                listener()
        return new


SQLITE_CONCURRENCY = 4


@dataclass
class InboxConfig:
    lease_seconds: float = 30.0  # a claimed event is taken up again after this
    concurrency: int = 16  # events (of different chats) handled at once
    poll_seconds: float = 1.0  # how often an idle worker looks (other processes' events)
    max_attempts: int = 5  # claims of one event before it is given up

    @classmethod
    def from_settings(cls, settings: Any) -> InboxConfig:
        concurrency = settings.inbox_concurrency
        if concurrency is None:
            # SQLite has one writer at a time: more events in hand only lengthen the queue
            # for its one connection, where webhook acknowledgements wait too.
            sqlite = settings.database_url.startswith("sqlite")
            concurrency = SQLITE_CONCURRENCY if sqlite else cls.concurrency
        return cls(
            lease_seconds=settings.inbox_lease_seconds,
            concurrency=concurrency,
            poll_seconds=settings.inbox_poll_seconds,
        )


class InboxWorker:
    def __init__(
        self,
        engine: Any,  # bot.engine.Engine
        outbox: Any,  # bot.outbox.OutboxSender
        channels: Iterable[str],
        config: InboxConfig | None = None,
    ) -> None:
        self.engine = engine
        self.outbox = outbox
        self.channels = list(channels)
        self.config = config or InboxConfig()
        self.token = f"in:{socket.gethostname()[:24]}:{os.getpid()}:{uuid.uuid4().hex[:6]}"
        self._wake = asyncio.Event()
        self._stopping = False
        self._tasks: set[asyncio.Task[None]] = set()
        self._claimed: dict[int, ClaimedEvent] = {}
        self._batch_at = max(1, self.config.concurrency // 2)
        self.handled = 0

    def wake(self) -> None:
        self._wake.set()

    async def run_forever(self) -> None:
        outage = Outage("The database", "inbox")
        while not self._stopping:
            # Cleared before looking: an event stored meanwhile wakes the wait below at once.
            self._wake.clear()
            claimed = 0
            free = self.config.concurrency - len(self._tasks)
            # Claim in batches: a claim per finished event would double the transactions
            # (on SQLite, all on one connection). Idle, or half the slots free: claim.
            if self.channels and (not self._tasks or free >= self._batch_at):
                try:
                    claimed = await self._claim(free)
                    outage.over()
                except Exception as exc:
                    outage.failed(exc, retry_in=self.config.poll_seconds)
            if claimed < free or self._tasks:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._wake.wait(), timeout=self.config.poll_seconds)

    async def _claim(self, limit: int) -> int:
        lease = timedelta(seconds=self.config.lease_seconds)
        async with self.engine.db.begin() as conn:
            events = await InboxRepo(conn).claim(self.token, utcnow(), lease, limit, self.channels)
        for event in events:
            self._claimed[event.id] = event
            task = asyncio.create_task(self._handle(event), name=f"inbox-{event.id}")
            self._tasks.add(task)
            task.add_done_callback(self._done)
        return len(events)

    def _done(self, task: asyncio.Task[None]) -> None:
        self._tasks.discard(task)
        self._wake.set()

    async def _handle(self, event: ClaimedEvent) -> None:
        try:
            if event.attempts > self.config.max_attempts:
                log.error("inbox event %s failed %d times; giving up", event.id, event.attempts)
                replies = await self.engine.give_up(event, self.token, "too many attempts")
            else:
                replies = await self.engine.process(event, self.token)
            self._claimed.pop(event.id, None)
            self.handled += 1
            if replies:
                await self.outbox.deliver(replies, self.token)
        except asyncio.CancelledError:
            raise
        except Exception:
            # The event stays claimed; its lease passes and it is handled again.
            log.exception("inbox event %s could not be handled", event.id)

    async def stop(self, grace: float = 30.0) -> None:
        """Take nothing new; let the events in hand finish; give back what could not."""
        self._stopping = True
        self._wake.set()
        if self._tasks:
            _done, pending = await asyncio.wait(set(self._tasks), timeout=grace)
            for task in pending:
                task.cancel()
            await asyncio.gather(*pending, return_exceptions=True)
        left = list(self._claimed)
        if left:
            with contextlib.suppress(Exception):
                async with self.engine.db.begin() as conn:
                    await InboxRepo(conn).release(left, self.token)
            self._claimed.clear()
