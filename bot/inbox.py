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
        self._rounds: set[asyncio.Task[None]] = set()  # batches being claimed and handled
        # On PostgreSQL two batches may be handled at once; SQLite has one connection.
        self._max_rounds = 1 if engine.db.dialect.name == "sqlite" else 2
        self._busy = False  # the last batch was full
        self._stored = 0  # events stored in this process (wake-ups)
        self._found_nothing_at = -1  # ``_stored`` when a batch last found nothing
        self._next_look = 0.0  # when to look again without a wake-up
        self._sending: dict[tuple[str, str], asyncio.Task[None]] = {}  # last task per chat
        self._tasks: set[asyncio.Task[None]] = set()
        self._slots = asyncio.Semaphore(SENDING_CHATS)
        self._claimed: dict[int, ClaimedEvent] = {}
        self.handled = 0

    def wake(self) -> None:
        self._stored += 1
        self._wake.set()

    async def run_forever(self) -> None:
        outage = Outage("The database", "inbox")
        loop = asyncio.get_running_loop()
        while not self._stopping:
            # Cleared before looking: an event stored meanwhile wakes the wait below at once.
            self._wake.clear()
            self._rounds = {r for r in self._rounds if not r.done()}
            # Something new since a round last found nothing, or time to look anyway
            # (other processes' events, leases that expired).
            fresh = self._found_nothing_at != self._stored or loop.time() >= self._next_look
            # A second batch only while the last one was full (PostgreSQL: its own
            # connection; it claims other chats, since a chat's next event waits for the
            # one in hand). Replies still to send hold back more batches: memory stays
            # bounded, and the sends are not starved by ever more handling.
            room = not self._rounds or (self._busy and len(self._rounds) < self._max_rounds)
            if self.channels and fresh and room and len(self._tasks) < 2 * self.config.concurrency:
                task = asyncio.create_task(self._round_once(outage), name="inbox-batch")
                self._rounds.add(task)
                task.add_done_callback(lambda _t: self._wake.set())
                await asyncio.sleep(0)  # let it claim before deciding on another
                continue
            wait = self.config.poll_seconds
            if not self._rounds:
                wait = max(0.0, min(wait, self._next_look - loop.time()))
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), timeout=wait)

    async def _round_once(self, outage: Outage) -> None:
        stored = self._stored
        try:
            claimed = await self._handle_batch()
            outage.over()
        except Exception as exc:
            outage.failed(exc, retry_in=self.config.poll_seconds)
            claimed = 0
        self._busy = claimed >= self.config.concurrency
        if claimed:
            self._found_nothing_at = -1
        else:
            self._found_nothing_at = stored
            loop = asyncio.get_running_loop()
            self._next_look = loop.time() + self.config.poll_seconds

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
        while pending := {t for t in (*self._tasks, *self._rounds) if not t.done()}:
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
