"""Direct replies go first: a user who writes while a broadcast drains is answered at once."""

from __future__ import annotations

import time

from bot.outbox import enqueue_many
from db.models.base import utcnow
from db.repos.outbox import NewMessage
from tests.auxil.fake_telegram import FakeTelegram
from tests.auxil.telegram import RunningBot, start_bot, telegram_settings_for

USER = 999


async def test_reply_overtakes_a_draining_broadcast(db_url: str, fake_telegram: FakeTelegram):
    settings = telegram_settings_for(db_url, fake_telegram, outbox_rate=20, outbox_batch=50)
    app, transport, workers = await start_bot(settings)
    bot = RunningBot(app, transport, settings, workers)
    try:
        now = utcnow()
        bulk = [
            NewMessage("bc:1", "telegram", str(10_000 + i), f"Thông báo {i}", [], now)
            for i in range(400)
        ]
        async with app.sessions() as session, session.begin():
            assert await enqueue_many(session, bulk, now) == 400
        workers.sender.wake()
        await fake_telegram.wait_for(lambda f: f.sent_total >= 20, timeout=10)

        asked = time.monotonic()
        fake_telegram.push_message(USER, "/menu")
        [menu] = await fake_telegram.wait_for_messages(USER, 1, timeout=10)
        waited = time.monotonic() - asked
        assert "Bạn cần gì" in menu["text"]
        bulk_sent = fake_telegram.sent_total - 1
        assert bulk_sent < 200, "the broadcast was over before the user wrote"
        # 20 bulk messages a second: behind the queue the reply would wait over 9 s.
        assert waited < 3.0, f"the reply waited {waited:.1f} s behind the broadcast"
        assert fake_telegram.rejected == []
    finally:
        await bot.stop()
