"""An event imported less than 7 days ahead: its 7-day and 1-day reminders would go out at
the same moment (or the same day); one message, not two identical «Ngày mai»."""

from __future__ import annotations

import pytest

from handlers.reminders.scheduling import ReminderConfig, enqueue_due
from tests.test_outbox_support import add_event, local, outbox_rows, sessions_for, subscribe


@pytest.fixture
async def db(db_url):
    engine, sessions = sessions_for(db_url)
    yield sessions
    await engine.dispose()


async def due(sessions, now) -> int:
    async with sessions() as session, session.begin():
        return await enqueue_due(session, now, ReminderConfig())


@pytest.mark.parametrize(
    "imported",
    [
        local(2026, 12, 8, 22, 0),  # the evening before the day before: both due at 08:00
        local(2026, 12, 9, 7, 30),  # the day before, before the 08:00 reminder
        local(2026, 12, 5, 23, 0),  # 4 days ahead, at night
    ],
)
async def test_one_reminder_not_two_identical_ones(db, imported):
    await subscribe(db, "4001", province="Quảng Ngãi")
    await add_event(db, imported, starts_at=local(2026, 12, 10, 9, 0))
    for now in (imported, local(2026, 12, 9, 8, 0), local(2026, 12, 9, 8, 5)):
        await due(db, now)
    rows = [r for r in await outbox_rows(db) if r.campaign.startswith("rem:")]
    tomorrow = [r for r in rows if "Ngày mai" in r.text]
    assert len(tomorrow) == 1
    assert len({(r.text, r.not_before) for r in rows}) == len(rows)
