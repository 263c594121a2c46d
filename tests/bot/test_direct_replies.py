"""Direct replies go first: a user who writes while a broadcast drains is answered at once."""

from __future__ import annotations

from bot.outbox import enqueue_many
from db.models.base import utcnow
from db.repos.outbox import NewMessage, OutboxRepo
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

        before = fake_telegram.sent_total
        fake_telegram.push_message(USER, "/menu")
        [menu] = await fake_telegram.wait_for_messages(USER, 1, timeout=30)
        assert "Bạn cần gì" in menu["text"]
        # Behind the queue the reply would come after the ~380 bulk messages left; it
        # overtakes them (a few go out while the message is handled).
        overtaken = fake_telegram.sent_total - 1 - before
        assert overtaken < 100, f"{overtaken} bulk messages went before the reply"
        async with app.sessions() as session:
            pending = await OutboxRepo(session).counts("bc:1")
        assert pending["pending"] + pending["sending"] > 200  # the broadcast still drains
        assert fake_telegram.rejected == []
    finally:
        await bot.stop()
