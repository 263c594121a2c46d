"""Webhook mode: Telegram POSTs updates to the bot's own aiohttp server.

The test plays Telegram's part (the POSTs); replies still go to the fake Bot API.
"""

from __future__ import annotations

import io
import json
import socket
from collections.abc import AsyncIterator

import aiohttp
import pytest

from bot.settings import Settings
from tests.auxil.fake_telegram import FakeTelegram
from tests.auxil.telegram import RunningBot, start_bot, telegram_settings_for

SECRET = "s3cret-Token_42"
CHAT = 3003


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture
async def webhook_bot(db_url: str, fake_telegram: FakeTelegram) -> AsyncIterator[RunningBot]:
    settings: Settings = telegram_settings_for(
        db_url,
        fake_telegram,
        webhook_url="https://kc.example.vn/tg/hook",
        webhook_secret=SECRET,
        listen_host="127.0.0.1",
        listen_port=free_port(),
    )
    app, transport, workers = await start_bot(settings)
    bot = RunningBot(app, transport, settings, workers)
    yield bot
    await bot.stop()


def start_update(update_id: int, text: str = "/start") -> dict:
    return {
        "update_id": update_id,
        "message": {
            "message_id": update_id,
            "date": 1_760_000_000,
            "chat": {"id": CHAT, "type": "private", "first_name": "Bình"},
            "from": {"id": CHAT, "is_bot": False, "first_name": "Bình", "last_name": "Trần"},
            "text": text,
            "entities": [{"type": "bot_command", "offset": 0, "length": len(text)}],
        },
    }


async def post(bot: RunningBot, body: object, secret: str | None) -> int:
    headers = {} if secret is None else {"X-Telegram-Bot-Api-Secret-Token": secret}
    url = f"http://127.0.0.1:{bot.transport.webhook_port}/tg/hook"
    async with aiohttp.ClientSession() as http:
        raw = isinstance(body, bytes | io.BytesIO)
        data = body if raw else None
        json_body = None if raw else body
        async with http.post(url, json=json_body, data=data, headers=headers) as response:
            return response.status


async def test_webhook_registered_with_secret(webhook_bot: RunningBot, fake_telegram: FakeTelegram):
    assert fake_telegram.webhook["url"] == "https://kc.example.vn/tg/hook"
    assert fake_telegram.webhook["secret_token"] == SECRET
    assert "callback_query" in fake_telegram.webhook["allowed_updates"]
    assert fake_telegram.calls_to("getUpdates") == []


async def test_wrong_or_missing_secret_is_refused(
    webhook_bot: RunningBot, fake_telegram: FakeTelegram
):
    assert await post(webhook_bot, start_update(1), None) == 403
    assert await post(webhook_bot, start_update(2), "wrong-secret") == 403
    assert await post(webhook_bot, start_update(3), SECRET[:-1]) == 403
    assert fake_telegram.sent_to(CHAT) == []
    async with webhook_bot.app.sessions() as session:
        from db.repos.core import UserRepo

        assert await UserRepo(session).get("telegram", str(CHAT)) is None


async def test_right_secret_is_answered(webhook_bot: RunningBot, fake_telegram: FakeTelegram):
    assert await post(webhook_bot, start_update(10), SECRET) == 200  # stored, then answered
    [welcome] = await fake_telegram.wait_for_messages(CHAT, 1)
    assert "Xin chào Trần" in welcome["text"] or "Trợ lý Khuyến công" in welcome["text"]
    # Telegram retrying the same update (no answer seen in time) gets no second reply
    assert await post(webhook_bot, start_update(10), SECRET) == 200
    assert await post(webhook_bot, start_update(12, "/help"), SECRET) == 200
    await fake_telegram.wait_for_messages(CHAT, 2)
    assert len(fake_telegram.sent_to(CHAT)) == 2


async def test_malformed_bodies_get_400(webhook_bot: RunningBot, fake_telegram: FakeTelegram):
    assert await post(webhook_bot, b"{not json", SECRET) == 400
    assert await post(webhook_bot, {"hello": "world"}, SECRET) == 400
    assert await post(webhook_bot, [1, 2], SECRET) == 400
    assert fake_telegram.sent_to(CHAT) == []
    assert await post(webhook_bot, start_update(11, "/help"), SECRET) == 200
    await fake_telegram.wait_for_messages(CHAT, 1)
    assert len(fake_telegram.sent_to(CHAT)) == 1


async def test_oversized_body_gets_413_and_a_chatless_update_is_ignored(
    webhook_bot: RunningBot, fake_telegram: FakeTelegram, caplog: pytest.LogCaptureFixture
):
    huge = json.dumps(start_update(20, "x" * (1024 * 1024 + 10))).encode()
    assert await post(webhook_bot, io.BytesIO(huge), SECRET) == 413
    # An inline query has no chat: confirmed (200) and ignored, without a traceback.
    user = {"id": CHAT, "is_bot": False, "first_name": "Bình"}
    query = {"id": "1", "from": user, "query": "hội chợ", "offset": ""}
    chatless = {"update_id": 21, "inline_query": query}
    assert await post(webhook_bot, chatless, SECRET) == 200
    assert await post(webhook_bot, start_update(22, "/help"), SECRET) == 200
    [reply] = await fake_telegram.wait_for_messages(CHAT, 1)
    assert "Lệnh:" in reply["text"]
    assert not [r for r in caplog.records if r.exc_info]


async def test_health_check(webhook_bot: RunningBot):
    url = f"http://127.0.0.1:{webhook_bot.transport.webhook_port}/healthz"
    async with aiohttp.ClientSession() as http, http.get(url) as response:
        assert response.status == 200
        assert (await response.json())["ok"] is True


async def test_an_update_is_stored_exactly_as_posted(
    webhook_bot: RunningBot, fake_telegram: FakeTelegram
):
    from sqlalchemy import select

    from db.models.core import InboxEvent

    body = json.dumps(start_update(30, "/help"), ensure_ascii=False, indent=1).encode()
    assert await post(webhook_bot, body, SECRET) == 200
    await fake_telegram.wait_for_messages(CHAT, 1)
    async with webhook_bot.app.sessions() as session:
        [raw] = (await session.execute(select(InboxEvent.raw))).scalars().all()
    assert raw == body.decode()
