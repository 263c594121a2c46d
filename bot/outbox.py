"""The persistent outbox: queue messages for chats, and the worker that sends them.

Anyone may queue (reminders, staff broadcasts, draft notifications)::

    await enqueue(session, campaign="rem:12:7", channel="telegram", chat_id="123",
                  text="...", buttons=[[Button(...)]], not_before=moment)

Queueing is idempotent on (campaign, channel, chat_id): the second call returns False.

The sender (``OutboxSender``) claims due rows with a lease, sends them under the channel's
limits and records every attempt:

- limits: a token bucket for the whole sender (default 30 msg/s, Telegram's broadcast
  limit) and at most one message per chat per second;
- rate limited (429): the whole sender pauses for ``retry_after`` and the row is retried;
- transient (network errors, timeouts, 5xx): retried with exponential backoff, at most
  ``max_attempts`` times, then failed;
- unreachable (blocked the bot): the user is marked unreachable, the row and every other
  pending row to that chat fail; unreachable users' rows are skipped. Unreachable for a
  reason that passes (outside a messaging window) fails only that row, marked so;
- rejected (bad request): failed at once (retrying cannot help).

Senders speak ``bot.channels``' neutral outcomes, so this worker is the same for every
channel. Direct replies (``deliver``) are sent by the process that handled the message as
soon as their transaction commits, before any bulk row, and outside the bulk rate limit:
they answer a user who is waiting, and come at the pace users write. A 429 pauses both.

Exactly-once, and the window where it is only at-least-once: a row is marked sent in its
own short transaction right after the platform accepted it. If the process dies after the
platform accepted the message and before that commit (a few milliseconds), the row's lease
expires and it is sent again: that message is duplicated. Any other crash loses nothing
and duplicates nothing: unsent claimed rows go back to the queue when their lease expires
(or at once on a clean stop). On PostgreSQL several sender processes can run: each claims
with ``FOR UPDATE SKIP LOCKED`` and a per-claim token, so a row is never sent by two of
them. The per-chat limit is kept per process.

Time comes from an injectable ``Clock`` (``now()`` and ``sleep()``), so tests never sleep
on the wall clock.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import socket
import uuid
from collections import deque
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, Protocol

from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from bot.channels import Outcome, Sender, SendResult
from bot.outage import Outage
from bot.types import Button, Reply
from db.models.base import utcnow
from db.repos.outbox import (
    DIRECT,
    FAILED,
    PENDING,
    DirectReply,
    NewMessage,
    OutboxRepo,
    record_sent,
    reply_of,
)

log = logging.getLogger(__name__)


class Clock(Protocol):
    def now(self) -> datetime: ...

    async def sleep(self, seconds: float) -> None: ...


class SystemClock:
    def __init__(self, now: Callable[[], datetime] | None = None) -> None:
        self._now = now or (lambda: datetime.now(UTC))

    def now(self) -> datetime:
        return self._now()

    async def sleep(self, seconds: float) -> None:
        await asyncio.sleep(max(0.0, seconds))


# --- queueing ---------------------------------------------------------------------------


def buttons_to_json(buttons: Sequence[Sequence[Button]] | Sequence[Any] | None) -> list[Any]:
    """Rows of buttons as JSON: ``[[[label, payload], ...], ...]``."""
    rows: list[Any] = []
    for row in buttons or []:
        out = []
        for b in row:
            if isinstance(b, Button):
                out.append([b.label, b.payload])
            else:
                label, payload = b
                Button(label, payload)  # validates the payload's size now, not at send time
                out.append([label, payload])
        rows.append(out)
    return rows


async def enqueue(
    session: AsyncSession,
    *,
    campaign: str,
    channel: str,
    chat_id: str,
    text: str,
    buttons: Sequence[Sequence[Button]] | Sequence[Any] | None = None,
    not_before: datetime | None = None,
    now: datetime | None = None,
) -> bool:
    """Queue one message; False if this (campaign, channel, chat_id) was queued before."""
    now = now or utcnow()
    message = NewMessage(
        campaign=campaign,
        channel=channel,
        chat_id=str(chat_id),
        text=text,
        buttons=buttons_to_json(buttons),
        not_before=not_before or now,
    )
    return await OutboxRepo(session).enqueue_many([message], now) == 1


async def enqueue_many(
    session: AsyncSession, messages: Sequence[NewMessage], now: datetime | None = None
) -> int:
    """Queue many messages at once (broadcasts); returns how many were new."""
    return await OutboxRepo(session).enqueue_many(messages, now or utcnow())


# --- limits -----------------------------------------------------------------------------


class TokenBucket:
    """``rate`` tokens a second, at most ``capacity`` saved up; callers queue fairly.

    A caller takes a token at once if one is there; otherwise it reserves the next one
    (the count goes negative) and sleeps until it is due, so concurrent callers never
    exceed the rate. ``rate`` of 0 or less means unlimited.
    """

    def __init__(self, rate: float, capacity: float, clock: Clock) -> None:
        self.rate = rate
        self.capacity = max(1.0, capacity)
        self.clock = clock
        self.tokens = self.capacity
        self.updated = clock.now().timestamp()

    async def acquire(self) -> None:
        if self.rate <= 0:
            return
        now = self.clock.now().timestamp()
        self.tokens = min(self.capacity, self.tokens + (now - self.updated) * self.rate)
        self.updated = now
        self.tokens -= 1
        if self.tokens < 0:
            await self.clock.sleep(-self.tokens / self.rate)


class PerChatLimit:
    """At most one message per ``interval`` seconds to one chat (reservations)."""

    def __init__(self, interval: float, clock: Clock) -> None:
        self.interval = interval
        self.clock = clock
        self.next_at: dict[str, float] = {}

    async def acquire(self, chat: str) -> None:
        if self.interval <= 0:
            return
        now = self.clock.now().timestamp()
        if len(self.next_at) > 50_000:
            self.next_at = {k: v for k, v in self.next_at.items() if v > now}
        at = max(now, self.next_at.get(chat, 0.0))
        self.next_at[chat] = at + self.interval
        if at > now:
            await self.clock.sleep(at - now)


# --- the sender -------------------------------------------------------------------------


@dataclass
class OutboxConfig:
    """Sender tuning. ``from_settings`` reads ``KCBOT_OUTBOX_*`` (see the README)."""

    rate: float = 30.0  # messages per second for the whole sender; 0 = unlimited
    burst: float = 1.0  # tokens that may be saved up (1 = evenly spaced)
    per_chat_seconds: float = 1.0  # minimum gap between two messages to one chat
    concurrency: int = 8  # sends in flight at once
    batch: int = 100  # rows claimed at a time
    lease_seconds: float = 120.0  # a claimed row goes back to the queue after this
    max_attempts: int = 5  # network/5xx errors before a row is failed
    backoff_seconds: float = 2.0  # first retry delay, doubled each time ...
    backoff_cap_seconds: float = 300.0  # ... up to this
    poll_seconds: float = 1.0  # how often an idle sender looks for due rows

    @classmethod
    def from_settings(cls, settings: Any, **overrides: Any) -> OutboxConfig:
        """From the KCBOT_OUTBOX_* settings (validated by bot.settings)."""
        values = {name: getattr(settings, f"outbox_{name}") for name in cls().__dict__}
        values.update(overrides)
        return cls(**values)


@dataclass
class SendStats:
    sent: int = 0
    failed: int = 0
    unreachable: int = 0
    retried: int = 0
    rate_limited: int = 0
    skipped: int = 0
    released: int = 0

    def add(self, other: SendStats) -> None:
        for name in self.__dict__:
            setattr(self, name, getattr(self, name) + getattr(other, name))


class _DirectRow:
    """A direct reply in the shape the sender's bookkeeping reads from outbox rows."""

    def __init__(self, direct: DirectReply) -> None:
        self.id = direct.id
        self.channel = direct.channel
        self.chat_id = direct.chat_id
        self.attempts = 0
        self.priority = DIRECT


@dataclass
class _Batch:
    token: str
    rows: deque[Any]
    deadline: float
    leftover: list[int] = field(default_factory=list)


class OutboxSender:
    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        senders: Mapping[str, Sender],
        config: OutboxConfig | None = None,
        clock: Clock | None = None,
        name: str | None = None,
    ) -> None:
        self.sessions = sessions
        self._db: AsyncEngine = sessions.kw["bind"]
        self.senders = dict(senders)
        self.config = config or OutboxConfig()
        self.clock = clock or SystemClock()
        self.name = name or f"{socket.gethostname()[:30]}:{os.getpid()}:{uuid.uuid4().hex[:6]}"
        # Bulk limits and 429 pauses are per channel: Zalo's quota says nothing of Telegram's.
        self.buckets = {
            channel: TokenBucket(self.config.rate, self.config.burst, self.clock)
            for channel in self.senders
        }
        self.per_chat = PerChatLimit(self.config.per_chat_seconds, self.clock)
        self.paused_until: dict[str, float] = {}  # channel -> when its pause ends
        self.stats = SendStats()
        self._blocked_chats: set[tuple[str, str]] = set()  # blocked while this sender ran
        # Sent rows waiting to be recorded, and the task recording them.
        self._sent: list[tuple[int, str, asyncio.Future[None]]] = []
        self._recorders: set[asyncio.Task[None]] = set()
        self._taking = False  # a recorder is started and has not taken the waiting rows yet
        # SQLite has one connection (and one writer): one recorder.
        self._recorder_limit = 2 if self._db.dialect.name == "postgresql" else 1
        self._claims = 0
        self._stopping = False
        self._wake = asyncio.Event()

    # -- public -----------------------------------------------------------------------

    async def run_once(self) -> int:
        """Claim one batch of due rows and work through it; returns rows claimed."""
        if not self.senders:
            return 0
        now = self.clock.now()
        channels = [c for c in self.senders if self._pause_left(c) <= 0]
        if not channels:  # every channel is paused: sleep until the first pause ends
            await self.clock.sleep(min(self._pause_left(c) for c in self.senders))
            return 0
        self._claims += 1
        token = f"{self.name}/{self._claims}"[-64:]
        lease = timedelta(seconds=self.config.lease_seconds)
        async with self.sessions() as session, session.begin():
            repo = OutboxRepo(session)
            rows = await repo.claim(token, now, lease, self.config.batch, channels)
            skipped = []
            by_channel: dict[str, list[str]] = {}
            for row in rows:
                by_channel.setdefault(row.channel, []).append(row.chat_id)
            blocked = {
                (ch, c)
                for ch, chats in by_channel.items()
                for c in await repo.unreachable_chats(ch, chats)
            }
            for row in rows:
                if (row.channel, row.chat_id) in blocked:
                    await repo.finish(
                        row.id,
                        token,
                        status=FAILED,
                        now=now,
                        outcome="skipped",
                        error="user unreachable",
                        count_attempt=False,
                    )
                    skipped.append(row)
        self.stats.skipped += len(skipped)
        todo = [r for r in rows if r not in skipped]
        if todo:
            # stop sending well before the lease ends, so nobody else takes a row we send
            margin = min(30.0, self.config.lease_seconds / 4)
            deadline = now.timestamp() + self.config.lease_seconds - margin
            batch = _Batch(token, deque(todo), deadline)
            workers = min(self.config.concurrency, len(todo))
            try:
                await asyncio.gather(*(self._work(batch) for _ in range(workers)))
            except (Exception, asyncio.CancelledError):
                await self._hand_back(batch)
                raise
            # KeyboardInterrupt, SystemExit: the process is dying; the lease covers it.
            await self._hand_back(batch)
        return len(rows)

    async def drain(self, max_batches: int | None = None) -> SendStats:
        """Send everything due now (for ``kcbot reminders run-due`` and tests)."""
        before = SendStats(**self.stats.__dict__)
        batches = 0
        while not self._stopping and await self.run_once():
            batches += 1
            if max_batches is not None and batches >= max_batches:
                break
        result = SendStats(**self.stats.__dict__)
        for name in result.__dict__:
            setattr(result, name, getattr(result, name) - getattr(before, name))
        return result

    async def run_forever(self) -> None:
        outage = Outage("The database", "outbox")
        while not self._stopping:
            try:
                claimed = await self.run_once()
                outage.over()
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                outage.failed(exc, retry_in=self.config.poll_seconds)
                claimed = 0
            if not claimed and not self._stopping:
                self._wake.clear()
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._wake.wait(), timeout=self.config.poll_seconds)

    def wake(self) -> None:
        self._wake.set()

    def stop(self) -> None:
        """Finish the sends in flight, hand back the rest, take nothing new."""
        self._stopping = True
        self._wake.set()

    # -- internals --------------------------------------------------------------------

    def _pause_left(self, channel: str) -> float:
        return self.paused_until.get(channel, 0.0) - self.clock.now().timestamp()

    async def _wait_pause(self, channel: str) -> None:
        while (wait := self._pause_left(channel)) > 0:
            await self.clock.sleep(wait)

    async def _work(self, batch: _Batch) -> None:
        while batch.rows and not self._stopping:
            row = batch.rows.popleft()
            await self._wait_pause(row.channel)
            await self.per_chat.acquire(f"{row.channel}:{row.chat_id}")
            if row.priority != DIRECT:  # replies left by a dead worker skip the bulk limit
                await self.buckets[row.channel].acquire()
            if self._stopping or self.clock.now().timestamp() >= batch.deadline:
                batch.leftover.append(row.id)
                continue
            if self._pause_left(row.channel) > 0:
                batch.rows.appendleft(row)  # a 429 arrived while we waited: wait it out
                continue
            if (row.channel, row.chat_id) in self._blocked_chats:
                self.stats.skipped += 1
                await self._finish(
                    batch.token, row, FAILED, "skipped", "user unreachable", count_attempt=False
                )
                continue
            await self._send(batch.token, row)

    async def _hand_back(self, batch: _Batch) -> None:
        batch.leftover.extend(r.id for r in batch.rows)
        batch.rows.clear()
        if batch.leftover:
            await asyncio.shield(self._release(batch))

    async def _release(self, batch: _Batch) -> None:
        # Rows of a paused channel are not claimed again until its pause ends (run_once).
        async with self.sessions() as session, session.begin():
            await OutboxRepo(session).release(batch.leftover, batch.token, self.clock.now())
        self.stats.released += len(batch.leftover)
        batch.leftover = []

    async def _send(self, token: str, row: Any) -> None:
        await self._record(token, row, await self._attempt(row, reply_of(row)))

    async def _attempt(self, row: Any, reply: Any) -> SendResult:
        """One send; a transport's own bug counts as a transient failure."""
        try:
            return await self.senders[row.channel].send(row.chat_id, reply)
        except Exception as exc:  # a transport bug must not stop the queue
            log.exception("%s/%s: unexpected send error", row.channel, row.chat_id)
            return SendResult(Outcome.TRANSIENT, detail=f"{type(exc).__name__}: {exc}")

    def _pause(self, row: Any, result: SendResult) -> float:
        """Pause every send for the time the platform asked; the moment it ends."""
        seconds = max(0.0, result.retry_after) or 1.0
        resume = self.clock.now().timestamp() + seconds
        self.paused_until[row.channel] = max(self.paused_until.get(row.channel, 0.0), resume)
        log.warning("%s: rate limited, pausing sends for %.1f s", row.channel, seconds)
        self.stats.rate_limited += 1
        return resume

    async def _record(self, token: str, row: Any, result: SendResult) -> None:
        outcome = result.outcome
        if outcome is Outcome.SENT:
            self.stats.sent += 1
            # The at-least-once window: between the platform's answer and this commit.
            await asyncio.shield(self._mark_sent(token, row))
        elif outcome is Outcome.RATE_LIMITED:
            resume = self._pause(row, result)
            await self._finish(
                token,
                row,
                PENDING,
                "rate_limited",
                f"retry after {result.retry_after}s",
                not_before=datetime.fromtimestamp(resume, UTC),
                count_attempt=False,
            )
        elif outcome is Outcome.UNREACHABLE and result.reason:
            # Unreachable for now only (e.g. outside a messaging window): this row fails.
            log.info("%s/%s unreachable: %s", row.channel, row.chat_id, result.reason)
            self.stats.unreachable += 1
            await self._finish(token, row, FAILED, result.reason, result.detail)
        elif outcome is Outcome.UNREACHABLE:
            log.info("%s/%s blocked the bot: marking unreachable", row.channel, row.chat_id)
            self.stats.failed += 1
            await self._blocked(token, row, result.detail)
        elif outcome is Outcome.REJECTED:
            log.warning("%s/%s: message refused: %s", row.channel, row.chat_id, result.detail)
            self.stats.failed += 1
            await self._finish(token, row, FAILED, "failed", f"rejected: {result.detail}")
        else:
            await self._retry_later(token, row, result.detail or "transient failure")

    async def deliver(self, replies: list[DirectReply], token: str) -> None:
        """Send the replies to one message now, in order (they are claimed by ``token``).

        A 429 waits its ``retry_after`` with the replies still claimed (their lease
        covers a crash meanwhile); a transient failure puts this reply and the rest back
        in the queue, where the sender loop retries them with backoff, still first.
        """
        for i, direct in enumerate(replies):
            row = _DirectRow(direct)
            result = await self._send_now(token, row, direct.reply)
            if result is None:
                continue
            await self._record(token, row, result)
            if result.outcome is Outcome.TRANSIENT:
                rest = [r.id for r in replies[i + 1 :]]
                if rest:
                    async with self.sessions() as session, session.begin():
                        await OutboxRepo(session).release(
                            rest, token, self.clock.now(), not_before=self._retry_at(1)
                        )
                return

    async def _send_now(self, token: str, row: _DirectRow, reply: Reply) -> SendResult | None:
        """Send, waiting out rate limits; None if the chat turned out unreachable."""
        while True:
            await self._wait_pause(row.channel)
            if (row.channel, row.chat_id) in self._blocked_chats:
                await self._finish(
                    token, row, FAILED, "skipped", "user unreachable", count_attempt=False
                )
                return None
            result = await self._attempt(row, reply)
            if result.outcome is not Outcome.RATE_LIMITED:
                return result
            self._pause(row, result)

    def _retry_at(self, attempts: int) -> datetime:
        delay = min(
            self.config.backoff_cap_seconds, self.config.backoff_seconds * 2 ** (attempts - 1)
        )
        return self.clock.now() + timedelta(seconds=delay)

    async def _retry_later(self, token: str, row: Any, error: str) -> None:
        attempts = row.attempts + 1
        if attempts >= self.config.max_attempts:
            log.warning(
                "%s/%s: giving up after %d attempts: %s", row.channel, row.chat_id, attempts, error
            )
            self.stats.failed += 1
            await self._finish(token, row, FAILED, "failed", error)
            return
        self.stats.retried += 1
        await self._finish(token, row, PENDING, "retry", error, not_before=self._retry_at(attempts))

    async def _finish(
        self,
        token: str,
        row: Any,
        status: str,
        outcome: str,
        error: str | None,
        not_before: datetime | None = None,
        count_attempt: bool = True,
    ) -> None:
        async with self.sessions() as session, session.begin():
            kept = await OutboxRepo(session).finish(
                row.id,
                token,
                status=status,
                now=self.clock.now(),
                outcome=outcome,
                error=error,
                not_before=not_before,
                count_attempt=count_attempt,
            )
        if not kept:
            log.warning("outbox row %s: claim lost before recording %s", row.id, outcome)

    async def _mark_sent(self, token: str, row: Any) -> None:
        """Record a sent row. Rows sent meanwhile by other tasks are recorded together, in
        one transaction (group commit): one commit per send would cost more than the send."""
        done: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._sent.append((row.id, token, done))
        # A recorder takes every row waiting when it starts. On PostgreSQL a few record
        # at once (each on its own connection), so a row sent while one is writing does
        # not wait for that write to end: the senders wait for their rows' records.
        self._recorders = {r for r in self._recorders if not r.done()}
        if len(self._recorders) < self._recorder_limit and not self._taking:
            self._taking = True
            self._recorders.add(asyncio.create_task(self._record_sent()))
        await done

    async def _record_sent(self) -> None:
        while self._sent:
            batch, self._sent = self._sent, []
            self._taking = False
            rows = [(i, t) for i, t, _ in batch]
            try:
                if self._db.dialect.name == "postgresql":
                    # One statement, atomic on its own: no BEGIN and COMMIT round trips
                    # while the senders wait for it.
                    async with self._db.connect() as conn:
                        conn = await conn.execution_options(isolation_level="AUTOCOMMIT")
                        kept = await record_sent(conn, rows, self.clock.now())
                else:
                    async with self._db.begin() as conn:
                        kept = await record_sent(conn, rows, self.clock.now())
            except Exception as exc:
                for _i, _t, done in batch:
                    done.set_exception(exc)
                continue
            if kept < len(batch):
                log.warning("outbox: %d sent rows had lost their claim", len(batch) - kept)
            for _i, _t, done in batch:
                done.set_result(None)
        self._taking = False

    async def _blocked(self, token: str, row: Any, error: str) -> None:
        from db.repos.core import UserRepo

        now = self.clock.now()
        self._blocked_chats.add((row.channel, row.chat_id))
        async with self.sessions() as session, session.begin():
            repo = OutboxRepo(session)
            await repo.finish(row.id, token, status=FAILED, now=now, outcome="blocked", error=error)
            await UserRepo(session).mark_unreachable(row.channel, row.chat_id)
            await repo.fail_chat(row.channel, row.chat_id, now, "user unreachable")


async def send_due(
    sessions: async_sessionmaker[AsyncSession],
    senders: Mapping[str, Sender],
    *,
    config: OutboxConfig | None = None,
    clock: Clock | None = None,
) -> SendStats:
    """One pass: send every row due now, then return."""
    sender = OutboxSender(sessions, senders, config=config, clock=clock)
    return await sender.drain()
