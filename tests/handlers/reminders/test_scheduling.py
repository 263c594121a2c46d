"""Reminders on a controlled clock, on SQLite and PostgreSQL: who gets what, when, once."""

from __future__ import annotations

import pytest

from bot.cli_events import run_due
from bot.outbox import OutboxConfig
from db.repos.events import EventRepo
from handlers.reminders.events_import import import_rows
from handlers.reminders.scheduling import ReminderConfig, enqueue_due, event_changed
from tests.test_outbox_support import (
    FakeClock,
    RecordingSender,
    add_event,
    local,
    outbox_rows,
    sessions_for,
    subscribe,
)

FAST = OutboxConfig(rate=0, per_chat_seconds=0)


@pytest.fixture
async def db(db_url):
    engine, sessions = sessions_for(db_url)
    yield sessions
    await engine.dispose()


class Bot:
    """run-due at chosen instants, everything delivered to one recording channel."""

    def __init__(self, sessions):
        self.sessions = sessions
        self.clock = FakeClock(local(2026, 1, 1))
        self.channel = RecordingSender(self.clock)

    async def run_due(self, moment):
        self.clock.set(moment)
        return await run_due(
            self.sessions, {"telegram": self.channel}, moment, clock=self.clock, outbox_config=FAST
        )

    def to(self, chat):
        return self.channel.to(chat)


async def test_event_7_days_ahead_reminds_matching_subscribers_once_at_8(db):
    await subscribe(db, "1", province="Quảng Ngãi")  # all kinds, all sectors
    await subscribe(db, "2", kinds=["trade_fair"])  # not deadlines
    await subscribe(db, "3", province="Hà Nội")  # another province
    await subscribe(db, "4", province="Quảng Ngãi", active=False)  # stopped
    await subscribe(db, "5", sectors=["craft"])  # sector matches
    await subscribe(db, "6", sectors=["mech"])  # sector doesn't
    await add_event(
        db,
        local(2026, 5, 1),
        title="Hạn nộp đề án khuyến công 2027",
        starts_at=local(2026, 5, 16),
        provinces=["Quảng Ngãi", "Gia Lai"],
        sectors=["Thủ công mỹ nghệ"],
        place="Sở Công Thương",
    )
    bot = Bot(db)
    await bot.run_due(local(2026, 5, 9, 7, 59))
    assert bot.channel.delivered == []
    await bot.run_due(local(2026, 5, 9, 8, 0))
    assert sorted(c for c, _, _ in bot.channel.delivered) == ["1", "5"]
    [text] = bot.to("1")
    assert "Còn 7 ngày đến hạn nộp" in text and "Thứ Bảy 16/05/2026" in text
    assert all(t == local(2026, 5, 9, 8, 0) for _, _, t in bot.channel.delivered)
    # run-due again, later that day and the next: nothing twice
    await bot.run_due(local(2026, 5, 9, 8, 5))
    await bot.run_due(local(2026, 5, 10, 9, 0))
    assert len(bot.channel.delivered) == 2
    # the day before: the 1-day reminder, once
    await bot.run_due(local(2026, 5, 15, 8, 0))
    await bot.run_due(local(2026, 5, 15, 8, 1))
    assert len(bot.to("1")) == 2 and "Ngày mai là hạn nộp" in bot.to("1")[1]
    # after the event: nothing
    await bot.run_due(local(2026, 5, 17, 8, 0))
    assert len(bot.channel.delivered) == 4


async def test_event_at_half_past_midnight_uses_the_local_date(db):
    await subscribe(db, "1")
    # 00:30 on 1 Jan 2027 in Vietnam is still 31 Dec 2026 in UTC
    await add_event(
        db,
        local(2026, 12, 1),
        title="Tập huấn marketing số",
        kind="training",
        starts_at=local(2027, 1, 1, 0, 30),
        all_day=False,
    )
    bot = Bot(db)
    await bot.run_due(local(2026, 12, 25, 7, 59))
    assert bot.to("1") == []
    await bot.run_due(local(2026, 12, 25, 8, 0))
    assert len(bot.to("1")) == 1 and "00:30, Thứ Sáu 01/01/2027" in bot.to("1")[0]
    await bot.run_due(local(2026, 12, 31, 7, 0))
    assert len(bot.to("1")) == 1
    await bot.run_due(local(2026, 12, 31, 8, 0))  # the day before, in the morning
    assert len(bot.to("1")) == 2 and "Ngày mai" in bot.to("1")[1]
    await bot.run_due(local(2027, 1, 1, 0, 0))
    assert len(bot.to("1")) == 2


async def test_fair_spanning_new_year_with_opening_day_note(db):
    await subscribe(db, "1")
    await add_event(
        db,
        local(2026, 12, 1),
        title="Hội chợ hàng CNNT khu vực phía Nam",
        kind="trade_fair",
        starts_at=local(2026, 12, 30),
        ends_at=local(2027, 1, 2),
        place="TP. Hồ Chí Minh",
    )
    bot = Bot(db)
    for day in range(23, 32):
        await bot.run_due(local(2026, 12, day, 8, 0))
    for day in range(1, 4):
        await bot.run_due(local(2027, 1, day, 8, 0))
    texts = bot.to("1")
    assert len(texts) == 3
    assert "Còn 7 ngày" in texts[0] and "Ngày mai" in texts[1] and "Hôm nay khai mạc" in texts[2]
    assert "Thứ Tư 30/12/2026 → Thứ Bảy 02/01/2027" in texts[0]


async def test_reminder_missed_while_down_is_sent_if_still_ahead_never_at_night(db):
    await subscribe(db, "1")
    await add_event(db, local(2026, 5, 1), starts_at=local(2026, 5, 16))
    bot = Bot(db)
    # down from before D-7 until 23:00 on D-4: the 7-day reminder is late; not at night
    await bot.run_due(local(2026, 5, 12, 23, 0))
    assert bot.to("1") == []
    await bot.run_due(local(2026, 5, 13, 6, 59))
    assert bot.to("1") == []
    await bot.run_due(local(2026, 5, 13, 8, 0))
    [text] = bot.to("1")
    assert "Còn 3 ngày" in text  # counted from the day it is sent
    [row] = await outbox_rows(db)
    assert row.not_before == local(2026, 5, 13, 8, 0)


async def test_only_the_latest_missed_offset_is_sent_and_past_events_are_dropped(db):
    await subscribe(db, "1")
    await add_event(db, local(2026, 5, 1), title="A", starts_at=local(2026, 5, 16))
    await add_event(db, local(2026, 5, 1), title="B", starts_at=local(2026, 5, 14))
    bot = Bot(db)
    await bot.run_due(local(2026, 5, 15, 10, 0))  # down since before both reminders
    [text] = bot.to("1")
    assert "Ngày mai" in text and "A" in text  # B is over: dropped


async def test_changed_event_updates_pending_reminders(db):
    await subscribe(db, "1")
    event_id = await add_event(
        db, local(2026, 5, 1), starts_at=local(2026, 5, 16), place="Hội trường cũ"
    )
    async with db() as session, session.begin():
        await enqueue_due(session, local(2026, 5, 9, 8, 0))  # queued, not sent yet
    rows = [
        (
            2,
            {
                "title": "Hạn nộp hồ sơ khuyến công 2027",
                "kind": "hạn nộp",
                "start": "16/05/2026",
                "place": "Hội trường mới, 12 Trần Phú",
            },
        ),
    ]
    async with db() as session, session.begin():
        report = await import_rows(session, rows, local(2026, 5, 9, 8, 0))
    assert report.updated == 1 and report.event_ids == [event_id]
    bot = Bot(db)
    await bot.run_due(local(2026, 5, 9, 8, 1))
    [text] = bot.to("1")
    assert "Hội trường mới" in text and "cũ" not in text


async def test_cancelled_event_cancels_pending_and_notifies_those_reminded(db):
    await subscribe(db, "1")
    event_id = await add_event(
        db, local(2026, 5, 1), kind="trade_fair", title="Hội chợ X", starts_at=local(2026, 5, 16)
    )
    bot = Bot(db)
    await bot.run_due(local(2026, 5, 9, 8, 0))
    assert len(bot.to("1")) == 1
    await subscribe(db, "2")  # joins later; gets a reminder queued but not sent
    async with db() as session, session.begin():
        await enqueue_due(session, local(2026, 5, 10, 8, 0))
        event = await EventRepo(session).set_cancelled(event_id, local(2026, 5, 10, 8, 0))
        result = await event_changed(session, event, local(2026, 5, 10, 8, 0))
    assert result == {"cancelled": 1, "notified": 1}
    await bot.run_due(local(2026, 5, 10, 8, 1))
    assert len(bot.to("1")) == 2 and "đã bị HỦY" in bot.to("1")[1]
    assert bot.to("2") == []
    await bot.run_due(local(2026, 5, 15, 8, 0))  # no 1-day reminder for a cancelled event
    assert len(bot.to("1")) == 2 and bot.to("2") == []


async def test_offsets_are_configurable():
    from bot.settings import Settings

    cfg = ReminderConfig.from_settings(Settings(_env_file=None))  # type: ignore[call-arg]
    assert cfg.offsets_days == (7, 1)

    custom = Settings(  # type: ignore[call-arg]
        _env_file=None, reminder_offsets_days="14, 3,1", send_window="06:30-20:00"
    )
    cfg = ReminderConfig.from_settings(custom)
    assert cfg.offsets_days == (14, 3, 1)
    assert cfg.window_start.hour == 6 and cfg.window_end.hour == 20
