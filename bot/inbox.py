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


# Events handled in one transaction (group commit). On SQLite, which has one writer and
# in this process one connection, a batch holds that connection while its handlers run;
# webhook acknowledgements wait for it, so its batches are smaller.
SQLITE_BATCH = 32
POSTGRES_BATCH = 64
# Chats whose replies are being sent at once. It also bounds the replies that a kill -9
# can duplicate: those sent but not yet recorded (one per chat being sent to).
SENDING_CHATS = 16


@dataclass
class InboxConfig:
    lease_seconds: float = 30.0  # a claimed event is taken up again after this
    concurrency: int = POSTGRES_BATCH  # events (of different chats) handled at once
    poll_seconds: float = 1.0  # how often an idle worker looks (other processes' events)
    max_attempts: int = 5  # claims of one event before it is given up

    @classmethod
    def from_settings(cls, settings: Any) -> InboxConfig:
        concurrency = settings.inbox_concurrency
        if concurrency is None:
            sqlite = settings.database_url.startswith("sqlite")
            concurrency = SQLITE_BATCH if sqlite else POSTGRES_BATCH
        return cls(
            lease_seconds=settings.inbox_lease_seconds,
            concurrency=concurrency,
            poll_seconds=settings.inbox_poll_seconds,
        )


class InboxWorker:
    """Claims a batch of events (the oldest open one of each chat), has the engine handle
    them in one transaction, and hands each chat's replies to a sending task while it
    claims the next batch. A chat's replies are sent in the order of its messages: a
    chat's sending task waits for the one before it."""

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
        self._round: asyncio.Task[int] | None = None
        self._sending: dict[tuple[str, str], asyncio.Task[None]] = {}  # last task per chat
        self._tasks: set[asyncio.Task[None]] = set()
        self._slots = asyncio.Semaphore(SENDING_CHATS)
        self._claimed: dict[int, ClaimedEvent] = {}
        self.handled = 0

    def wake(self) -> None:
        self._wake.set()

    async def run_forever(self) -> None:
        outage = Outage("The database", "inbox")
        while not self._stopping:
            # Cleared before looking: an event stored meanwhile wakes the wait below at once.
            self._wake.clear()
            claimed = 0
            # Replies still to send hold back the next batch: memory stays bounded, and
            # the sends (the slower part) are not starved by ever more handling.
            if self.channels and len(self._tasks) < 2 * self.config.concurrency:
                try:
                    self._round = asyncio.create_task(self._handle_batch(), name="inbox-batch")
                    claimed = await asyncio.shield(self._round)
                    outage.over()
                except Exception as exc:
                    outage.failed(exc, retry_in=self.config.poll_seconds)
                finally:
                    self._round = None
            if not claimed:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._wake.wait(), timeout=self.config.poll_seconds)

    async def _handle_batch(self) -> int:
        """Claim, handle and commit one batch; start sending its replies. How many claimed."""
        lease = timedelta(seconds=self.config.lease_seconds)
        async with self.engine.db.begin() as conn:
            events = await InboxRepo(conn).claim(
                self.token, utcnow(), lease, self.config.concurrency, self.channels
            )
        if not events:
            return 0
        self._claimed.update((event.id, event) for event in events)
        try:
            results: dict[int, list[Any]] = {}
            fresh = []
            for event in events:
                if event.attempts > self.config.max_attempts:
                    log.error("inbox event %s failed %d times; giving up", event.id, event.attempts)
                    results[event.id] = await self.engine.give_up(
                        event, self.token, "too many attempts"
                    )
                else:
                    fresh.append(event)
            if fresh:
                results.update(await self.engine.process_many(fresh, self.token))
        except Exception:
            # The events stay claimed; their lease passes and they are handled again.
            log.exception("a batch of %d inbox events could not be handled", len(events))
            return len(events)
        for event in events:
            self._claimed.pop(event.id, None)
            self.handled += 1
            replies = results.get(event.id)
            if replies:
                self._send((event.channel, event.chat_id), replies)
        return len(events)

    def _send(self, chat: tuple[str, str], replies: list[Any]) -> None:
        before = self._sending.get(chat)
        task = asyncio.create_task(self._send_after(before, replies), name=f"reply-{chat[1]}")
        self._sending[chat] = task
        self._tasks.add(task)

        def done(task: asyncio.Task[None]) -> None:
            self._tasks.discard(task)
            if self._sending.get(chat) is task:
                del self._sending[chat]
            self._wake.set()

        task.add_done_callback(done)

    async def _send_after(self, before: asyncio.Task[None] | None, replies: list[Any]) -> None:
        if before is not None:
            await asyncio.wait([before])
        try:
            async with self._slots:
                await self.outbox.deliver(replies, self.token)
        except asyncio.CancelledError:
            raise
        except Exception:
            # Queued and claimed: the outbox sender takes them up after their lease.
            log.exception("replies to %s could not be sent now", replies[0].chat_id)

    async def stop(self, grace: float = 30.0) -> None:
        """Take nothing new; let the events in hand finish; give back what could not."""
        self._stopping = True
        self._wake.set()
        loop = asyncio.get_running_loop()
        deadline = loop.time() + grace
        # The batch in hand first (it may start more sends), then every send.
        while pending := {t for t in (*self._tasks, self._round) if t and not t.done()}:
            _done, late = await asyncio.wait(pending, timeout=max(0.0, deadline - loop.time()))
            if late and loop.time() >= deadline:
                for task in late:
                    task.cancel()
                await asyncio.gather(*late, return_exceptions=True)
                break
        left = list(self._claimed)
        if left:
            with contextlib.suppress(Exception):
                async with self.engine.db.begin() as conn:
                    await InboxRepo(conn).release(left, self.token)
            self._claimed.clear()
