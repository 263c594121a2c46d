"""End to end: reminders through the outbox, the real TelegramTransport and the fake
Telegram Bot API server, on SQLite and PostgreSQL. The sender runs on a controlled clock."""

from __future__ import annotations

from datetime import timedelta

from bot.channels import Outcome
from bot.cli_events import _StartedClock, run_due
from bot.outbox import OutboxConfig
from bot.workers import start as start_workers
from db.repos.core import UserRepo
from tests.test_outbox_support import FakeClock, add_event, attempts, local, subscribe

NOW = local(2026, 5, 9, 8, 0)
EVENT_DAY = local(2026, 5, 16)


async def _setup(app, chats):
    for chat in chats:
        await subscribe(app.sessions, str(chat))
    return await add_event(
        app.sessions,
        NOW - timedelta(days=10),
        starts_at=EVENT_DAY,
        title="Hạn nộp hồ sơ khuyến công địa phương 2027",
    )


class Recording:
    """Wraps the sender to note the controlled clock's time of each successful send."""

    def __init__(self, transport, clock):
        self.sender, self.clock, self.sent_at = transport.sender, clock, []
        self.capabilities = self.sender.capabilities

    async def send(self, chat_id, reply):
        result = await self.sender.send(chat_id, reply)
        if result.outcome is Outcome.SENT:
            self.sent_at.append((chat_id, self.clock.now()))
        return result


async def test_reminder_reaches_the_subscribers_once_with_buttons(running_bot, fake_telegram):
    app, transport = running_bot.app, running_bot.transport
    await _setup(app, [5001, 5002])
    clock = FakeClock(NOW)
    for _ in range(2):  # run-due twice: nothing twice
        queued, stats = await run_due(
            app.sessions, {"telegram": transport.sender}, NOW, clock=clock
        )
    for chat in (5001, 5002):
        [message] = fake_telegram.sent_to(chat)
        assert "Còn 7 ngày đến hạn nộp" in message["text"]
        buttons = [
            b["callback_data"] for row in message["reply_markup"]["inline_keyboard"] for b in row
        ]
        assert buttons == ["reminders:list", "reminders:stop"]
    assert fake_telegram.rejected == []


async def test_429_from_telegram_is_honoured(running_bot, fake_telegram):
    app, transport = running_bot.app, running_bot.transport
    await _setup(app, [5001, 5002, 5003])
    fake_telegram.fail_next("sendMessage", status=429, retry_after=3)
    clock = FakeClock(NOW)
    channel = Recording(transport, clock)
    await run_due(
        app.sessions,
        {"telegram": channel},
        NOW,
        clock=clock,
        outbox_config=OutboxConfig(concurrency=1),
    )
    for chat in (5001, 5002, 5003):
        assert len(fake_telegram.sent_to(chat)) == 1
    refused = [c for c in fake_telegram.calls_to("sendMessage") if c["status"] == 429]
    assert len(refused) == 1
    # every delivery happened after the pause Telegram asked for
    assert all(t >= NOW + timedelta(seconds=3) for _, t in channel.sent_at)
    assert "rate_limited" in [a.outcome for a in await attempts(app.sessions)]


async def test_blocked_user_is_marked_and_skipped(running_bot, fake_telegram):
    app, transport = running_bot.app, running_bot.transport
    await _setup(app, [5001, 5002])
    fake_telegram.block(5002)
    clock = FakeClock(NOW)
    await run_due(app.sessions, {"telegram": transport.sender}, NOW, clock=clock)
    assert len(fake_telegram.sent_to(5001)) == 1
    async with app.sessions() as session:
        assert (await UserRepo(session).get("telegram", "5002")).unreachable
    # the 1-day reminder: 5001 gets it, 5002 is not even tried
    day_before = local(2026, 5, 15, 8, 0)
    clock.set(day_before)
    await run_due(app.sessions, {"telegram": transport.sender}, day_before, clock=clock)
    assert len(fake_telegram.sent_to(5001)) == 2
    tries = [c for c in fake_telegram.calls_to("sendMessage") if c["params"]["chat_id"] == 5002]
    assert len(tries) == 1


async def test_workers_inside_kcbot_run_send_due_reminders(running_bot, fake_telegram):
    app, transport = running_bot.app, running_bot.transport
    await _setup(app, [5001])
    workers = await start_workers(app, {"telegram": transport.sender}, clock=_StartedClock(NOW))
    try:
        [message] = await fake_telegram.wait_for_messages(5001, 1, timeout=10)
        assert "Còn 7 ngày" in message["text"]
    finally:
        await workers.stop()
    assert len(fake_telegram.sent_to(5001)) == 1
