"""Background work inside ``kcbot run``: the inbox worker, the outbox sender and the
reminder scheduler.

``start(app, senders)`` starts the loops; ``Workers.stop()`` lets the messages being
handled finish and their replies go out, lets the sends in flight finish and be recorded,
hands the rest of what was claimed back to the queues, then ends.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Mapping
from typing import Any

from bot.channels import Sender
from bot.inbox import InboxConfig, InboxWorker
from bot.outbox import Clock, OutboxConfig, OutboxSender, SystemClock
from handlers.reminders.scheduling import ReminderConfig, enqueue_due

log = logging.getLogger(__name__)

RETENTION_EVERY = 24 * 3600.0  # seconds between two retention passes


class Workers:
    def __init__(
        self,
        app: Any,
        senders: Mapping[str, Sender],
        *,
        clock: Clock | None = None,
        outbox_config: OutboxConfig | None = None,
        reminder_config: ReminderConfig | None = None,
        scheduler_seconds: float | None = None,
        inbox_config: InboxConfig | None = None,
    ) -> None:
        self.app = app
        self.clock = clock or SystemClock(app.services.now)
        self.sender = OutboxSender(
            app.sessions,
            senders,
            config=outbox_config or OutboxConfig.from_settings(app.settings),
            clock=self.clock,
        )
        for channel, sender in senders.items():
            app.engine.capabilities[channel] = sender.capabilities
        self.inbox = InboxWorker(
            app.engine,
            self.sender,
            senders,
            inbox_config or InboxConfig.from_settings(app.settings),
        )
        app.inbox.on_accept(self.inbox.wake)
        self.reminder_config = reminder_config or ReminderConfig.from_settings(app.settings)
        self.scheduler_seconds = scheduler_seconds or app.settings.reminder_check_seconds
        self._stop = asyncio.Event()
        self._tasks: list[asyncio.Task[None]] = []

    def start(self) -> None:
        self._tasks = [
            asyncio.create_task(self.inbox.run_forever(), name="inbox-worker"),
            asyncio.create_task(self.sender.run_forever(), name="outbox-sender"),
            asyncio.create_task(self._schedule(), name="reminder-scheduler"),
            asyncio.create_task(self._retention(), name="retention"),
        ]

    async def schedule_once(self) -> int:
        now = self.clock.now()
        async with self.app.sessions() as session, session.begin():
            queued = await enqueue_due(session, now, self.reminder_config)
        staff: Any = self.app.engine.router.get("staff")  # announcements' progress, notices
        if getattr(staff, "tick", None) is not None:
            queued += await staff.tick(self.app.sessions, now)
        if queued:
            log.info("queued %d reminders", queued)
            self.sender.wake()
        # Questions for staff unanswered after 24 working hours (handlers/tickets).
        from handlers.tickets import check_overdue

        if await check_overdue(self.app.sessions, now, self.app.settings):
            self.sender.wake()
        return queued

    async def _schedule(self) -> None:
        while not self._stop.is_set():
            try:
                await self.schedule_once()
            except Exception:
                log.exception("reminder scheduler pass failed")
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._stop.wait(), timeout=self.scheduler_seconds)

    async def _retention(self) -> None:
        """Once a day, delete what is kept longer than the retention settings."""
        from handlers.privacy.retention import prune

        while not self._stop.is_set():
            try:
                counts = await prune(self.app.sessions, self.clock.now(), self.app.settings)
                if any(counts.values()):
                    log.info("retention: %s", counts)
            except Exception:
                log.exception("retention pass failed")
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._stop.wait(), timeout=RETENTION_EVERY)

    async def stop(self, grace: float = 30.0) -> None:
        """Finish the messages and sends in progress, then stop the loops."""
        self._stop.set()
        await self.inbox.stop(grace)
        self.sender.stop()
        if not self._tasks:
            return
        _done, pending = await asyncio.wait(self._tasks, timeout=grace)
        for task in pending:
            task.cancel()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
        self._tasks = []


async def start(app: Any, senders: Mapping[str, Sender], **options: Any) -> Workers:
    """Start the inbox worker, the outbox sender and the reminder scheduler; returns what
    to ``stop()``."""
    workers = Workers(app, senders, **options)
    workers.start()
    return workers
