"""The Zalo Bot platform end to end (``serve`` against the fake Bot API): polling and
webhook, numbered menus, dedupe, 429."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import aiohttp
import pytest

from bot.channels import Outcome
from bot.transports.zalo_bot import ZaloBotClient, ZaloBotSender
from bot.types import Button, Reply
from tests.auxil.fake_zalo import FakeZaloBot
from tests.auxil.zalo import Served, bot_settings, serve_in_background, settings_for

CHAT = "6ede9afa66b88fe6d6a9"
SECRET = "zalo-bot-secret-42"


async def wait_calls(fake: FakeZaloBot, method: str) -> None:
    for _ in range(200):
        if method in fake.calls:
            return
        await asyncio.sleep(0.02)
    raise AssertionError(f"no {method} call")


@pytest.fixture
async def polling_bot(db_url: str, fake_zbot: FakeZaloBot) -> AsyncIterator[Served]:
    settings = settings_for(db_url, webhook_base=None, **bot_settings(fake_zbot))
    served = await serve_in_background(settings, wait_http=False)
    await wait_calls(fake_zbot, "getUpdates")
    yield served
    await served.stop()


@pytest.fixture
async def webhook_bot(db_url: str, fake_zbot: FakeZaloBot) -> AsyncIterator[Served]:
    settings = settings_for(db_url, zalo_bot_webhook_secret=SECRET, **bot_settings(fake_zbot))
    served = await serve_in_background(settings)
    yield served
    await served.stop()


async def test_polling_numbered_menu_and_typed_choice(polling_bot: Served, fake_zbot: FakeZaloBot):
    assert "deleteWebhook" in fake_zbot.calls
    fake_zbot.push(CHAT, "menu")
    [menu] = await fake_zbot.wait_for(CHAT, 1)
    assert "1. " in menu and "Gõ" in menu and "để chọn" in menu
    number = next(line.split(".")[0] for line in menu.splitlines() if "Tạo hồ sơ" in line)
    fake_zbot.push(CHAT, number)  # typing the number is tapping the button
    texts = await fake_zbot.wait_for(CHAT, 2)
    assert "Đồng ý" in texts[-1] and "Gõ" in texts[-1]
    assert all(len(t) <= 2000 for t in texts)


async def post(served: Served, body: object, secret: str | None) -> int:
    headers = {} if secret is None else {"X-Bot-Api-Secret-Token": secret}
    async with (
        aiohttp.ClientSession() as http,
        http.post(served.url("/zalo/bot"), json=body, headers=headers) as response,
    ):
        return response.status


async def test_webhook_secret_wrapped_and_bare_updates_dedupe(
    webhook_bot: Served, fake_zbot: FakeZaloBot
):
    assert fake_zbot.webhook == {
        "url": "https://kc.example.vn/hooks/zalo/bot",
        "secret_token": SECRET,
    }
    assert "getUpdates" not in fake_zbot.calls
    update = fake_zbot.update(CHAT, "menu", message_id="m-1")
    assert await post(webhook_bot, update, None) == 403
    assert await post(webhook_bot, update, "wrong") == 403
    await asyncio.sleep(0.3)
    assert fake_zbot.sent == []
    assert await post(webhook_bot, update, SECRET) == 200
    [menu] = await fake_zbot.wait_for(CHAT, 1)
    assert "Gõ" in menu
    assert await post(webhook_bot, update, SECRET) == 200  # redelivered: answered once
    bare = fake_zbot.update(CHAT, "menu", message_id="m-2", wrapped=False)
    assert await post(webhook_bot, bare, SECRET) == 200
    await fake_zbot.wait_for(CHAT, 2)
    await asyncio.sleep(0.5)
    assert len(fake_zbot.texts_to(CHAT)) == 2


async def test_quota_exceeded_pauses_this_bot_and_is_counted(fake_zbot: FakeZaloBot):
    client = ZaloBotClient(fake_zbot.token, fake_zbot.base_url)
    sender = ZaloBotSender(client)
    try:
        fake_zbot.rate_limit = 1
        first = await sender.send(CHAT, Reply("chào"))
        assert first.outcome is Outcome.RATE_LIMITED and first.retry_after >= 5
        # Paused: no request reaches Zalo until the backoff has passed.
        again = await sender.send(CHAT, Reply("chào"))
        assert again.outcome is Outcome.RATE_LIMITED and fake_zbot.sent == []
        assert sender.quota_exceeded == 1
        sender.paused_until = 0
        reply = Reply(
            "Chọn:", buttons=[[Button("Hỏi đáp", "menu:faq")], [Button("Hồ sơ", "menu:intake")]]
        )
        assert (await sender.send(CHAT, reply)).outcome is Outcome.SENT
        assert fake_zbot.texts_to(CHAT) == ["Chọn:\n\n1. Hỏi đáp\n2. Hồ sơ\n\nGõ 1 hoặc 2 để chọn."]
    finally:
        await client.close()
