"""``AiohttpRequest`` against the fake Bot API: answers, python-telegram-bot's errors for
every failure (through the raw ``call`` and through PTB's ``Bot`` alike), timeouts, the
connection limit, a dropped connection and a server that is down."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest
from telegram import Bot
from telegram.error import (
    BadRequest,
    Conflict,
    Forbidden,
    InvalidToken,
    NetworkError,
    RetryAfter,
    TelegramError,
    TimedOut,
)

from bot.channels import Outcome
from bot.transports.telegram import result_of, retry_after_seconds
from bot.transports.telegram_request import AiohttpRequest
from tests.auxil.fake_telegram import BOT_USER, TOKEN, FakeTelegram

CHAT = 4242


@pytest.fixture
async def request_(fake_telegram: FakeTelegram) -> AsyncIterator[AiohttpRequest]:
    request = AiohttpRequest(4, read_timeout=5, pool_timeout=1)
    await request.initialize()
    yield request
    await request.shutdown()


def url(fake: FakeTelegram, method: str, token: str = TOKEN) -> str:
    return f"{fake.base_url}{token}/{method}"


async def test_call_posts_json_and_returns_the_result(
    request_: AiohttpRequest, fake_telegram: FakeTelegram
):
    me = await request_.call(url(fake_telegram, "getMe"), {})
    assert me == BOT_USER
    markup = {"inline_keyboard": [[{"text": "🏠 Menu", "callback_data": "menu:home"}]]}
    sent = await request_.call(
        url(fake_telegram, "sendMessage"),
        {"chat_id": CHAT, "text": "Xin chào", "reply_markup": markup},
    )
    assert sent["chat"]["id"] == CHAT and sent["text"] == "Xin chào"
    [message] = fake_telegram.sent_to(CHAT)
    assert message["reply_markup"] == markup
    assert fake_telegram.rejected == []


async def test_python_telegram_bot_runs_on_it(fake_telegram: FakeTelegram):
    from telegram import InputFile

    request = AiohttpRequest(2)
    async with Bot(TOKEN, base_url=fake_telegram.base_url, request=request) as bot:
        assert bot.username == BOT_USER["username"]  # getMe at initialize
        await bot.send_message(CHAT, "Thông báo", disable_notification=True)
        await bot.send_document(CHAT, InputFile(b"PK\x03\x04 docx", filename="đơn.docx"))
    text, document = fake_telegram.sent_to(CHAT)
    assert text["text"] == "Thông báo" and text["disable_notification"] is True
    assert document["document"]["filename"] == "đơn.docx"
    assert document["document"]["size"] == len(b"PK\x03\x04 docx")
    assert fake_telegram.rejected == []
    with pytest.raises(RuntimeError, match="not initialized"):
        await request.call(url(fake_telegram, "getMe"), {})


@pytest.mark.parametrize(
    ("status", "error", "outcome"),
    [
        (429, RetryAfter, Outcome.RATE_LIMITED),
        (403, Forbidden, Outcome.UNREACHABLE),
        (400, BadRequest, Outcome.REJECTED),
        (500, NetworkError, Outcome.TRANSIENT),
        (502, NetworkError, Outcome.TRANSIENT),
    ],
)
async def test_errors_are_python_telegram_bots_on_both_paths(
    request_: AiohttpRequest,
    fake_telegram: FakeTelegram,
    status: int,
    error: type[TelegramError],
    outcome: Outcome,
):
    raised: list[TelegramError] = []
    fake_telegram.fail_next("sendMessage", status=status, retry_after=3)
    with pytest.raises(error) as raw:
        await request_.call(url(fake_telegram, "sendMessage"), {"chat_id": CHAT, "text": "a"})
    raised.append(raw.value)
    fake_telegram.fail_next("sendMessage", status=status, retry_after=3)
    async with Bot(TOKEN, base_url=fake_telegram.base_url, request=AiohttpRequest(1)) as bot:
        with pytest.raises(error) as via_ptb:
            await bot.send_message(CHAT, "a")
    raised.append(via_ptb.value)
    for exc in raised:
        assert type(exc) is error  # not a subclass such as TimedOut
        assert result_of(exc).outcome is outcome
        if status == 429:
            assert isinstance(exc, RetryAfter) and retry_after_seconds(exc) == 3
            assert result_of(exc).retry_after == 3
        else:
            assert fake_telegram.calls_to("sendMessage")[-1]["description"] in exc.message
    assert fake_telegram.sent_to(CHAT) == []


async def test_wrong_token_and_conflict(request_: AiohttpRequest, fake_telegram: FakeTelegram):
    with pytest.raises(InvalidToken):
        await request_.call(url(fake_telegram, "getMe", token="1:WRONG"), {})
    await request_.call(url(fake_telegram, "setWebhook"), {"url": "https://kc.example/hook"})
    with pytest.raises(Conflict, match="webhook is active"):
        await request_.call(url(fake_telegram, "getUpdates"), {"timeout": 0})


async def test_a_slow_answer_times_out(fake_telegram: FakeTelegram):
    request = AiohttpRequest(2, read_timeout=0.3)
    await request.initialize()
    try:
        fake_telegram.hold_sends()
        began = asyncio.get_running_loop().time()
        with pytest.raises(TimedOut):
            await request.call(url(fake_telegram, "sendMessage"), {"chat_id": CHAT, "text": "a"})
        assert asyncio.get_running_loop().time() - began < 2
        # Through PTB too; a longer read timeout for one call (getUpdates' long poll) waits.
        async with Bot(TOKEN, base_url=fake_telegram.base_url, request=request) as bot:
            with pytest.raises(TimedOut):
                await bot.send_message(CHAT, "a")
            await fake_telegram.wait_for(lambda f: f.connections_lost == 2)
            fake_telegram.release()  # both given up by the client: recorded as abandoned
            fake_telegram.hold_sends()
            slow = asyncio.ensure_future(
                request.call(url(fake_telegram, "sendMessage"), {"chat_id": CHAT, "text": "b"}, 5)
            )
            await fake_telegram.wait_for(lambda f: f.holding == 1)
            await asyncio.sleep(0.5)
            fake_telegram.release()
            assert (await slow)["text"] == "b"
    finally:
        fake_telegram.release()
        await request.shutdown()
    assert [m["text"] for m in fake_telegram.sent_to(CHAT)] == ["b"]
    assert [c["reason"] for c in fake_telegram.calls_to("sendMessage")] == [
        "abandoned",
        "abandoned",
        None,
    ]


async def test_the_connection_limit_holds_and_waits_at_most_the_pool_timeout(
    fake_telegram: FakeTelegram,
):
    request = AiohttpRequest(1, read_timeout=5, pool_timeout=0.3, connect_timeout=0.3)
    await request.initialize()
    try:
        fake_telegram.hold_sends()
        first = asyncio.ensure_future(
            request.call(url(fake_telegram, "sendMessage"), {"chat_id": CHAT, "text": "1"})
        )
        await fake_telegram.wait_for(lambda f: f.holding == 1)
        with pytest.raises(TimedOut):  # no free connection: never sent
            await request.call(url(fake_telegram, "sendMessage"), {"chat_id": CHAT, "text": "2"})
        assert len(fake_telegram.calls_to("sendMessage")) == 0 and fake_telegram.holding == 1
        fake_telegram.release()
        assert (await first)["text"] == "1"
    finally:
        fake_telegram.release()
        await request.shutdown()
    assert [m["text"] for m in fake_telegram.sent_to(CHAT)] == ["1"]


async def test_a_dropped_connection_is_a_network_error_and_the_next_call_works(
    request_: AiohttpRequest, fake_telegram: FakeTelegram
):
    fake_telegram.drop_next("sendMessage")
    with pytest.raises(NetworkError) as dropped:
        await request_.call(url(fake_telegram, "sendMessage"), {"chat_id": CHAT, "text": "a"})
    assert not isinstance(dropped.value, TimedOut)
    assert result_of(dropped.value).outcome is Outcome.TRANSIENT
    assert fake_telegram.calls_to("sendMessage")[0]["reason"] == "dropped"
    await request_.call(url(fake_telegram, "sendMessage"), {"chat_id": CHAT, "text": "b"})
    assert [m["text"] for m in fake_telegram.sent_to(CHAT)] == ["b"]


async def test_a_server_that_is_down_is_a_network_error(fake_telegram: FakeTelegram):
    request = AiohttpRequest(1, connect_timeout=1)
    await request.initialize()
    target = url(fake_telegram, "getMe")
    await fake_telegram.stop()
    try:
        with pytest.raises(NetworkError) as down:
            await request.call(target, {})
        assert result_of(down.value).outcome is Outcome.TRANSIENT
    finally:
        await request.shutdown()


async def test_the_standalone_sender_and_the_bot_name_lookup(fake_telegram: FakeTelegram):
    from types import SimpleNamespace

    from bot.cli_users import bot_username
    from bot.transports.telegram import TelegramSender
    from bot.types import Button, Reply

    async with TelegramSender.standalone(TOKEN, fake_telegram.base_url) as sender:
        result = await sender.send(str(CHAT), Reply("Nhắc lịch", [[Button("Xem", "ev:1")]]))
    assert result.outcome is Outcome.SENT
    [message] = fake_telegram.sent_to(CHAT)
    assert message["reply_markup"] == {
        "inline_keyboard": [[{"text": "Xem", "callback_data": "ev:1"}]]
    }
    settings = SimpleNamespace(
        telegram_bot_token=TOKEN, telegram_api_base_url=fake_telegram.base_url
    )
    assert await bot_username(settings) == BOT_USER["username"]
    await fake_telegram.stop()
    assert await bot_username(settings) is None  # unreachable: no link, no error
