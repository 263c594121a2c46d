"""Telegram updates read as the Bot API's plain JSON (``TelegramTransport.to_incoming``),
one test per kind of update, then the same updates through the running bot: stored as
received, a malformed one skipped without holding the others back, a block noted."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import pytest
from sqlalchemy import select

from bot.transports.telegram import TelegramTransport, full_name
from db.models.core import InboxEvent
from tests.auxil.fake_telegram import BOT_USER, FakeTelegram
from tests.auxil.telegram import RunningBot

to_incoming = TelegramTransport.to_incoming
CHAT = 5005
DATE = 1_760_000_000
USER = {
    "id": CHAT,
    "is_bot": False,
    "first_name": "An",
    "last_name": "Nguyễn",
    "language_code": "vi",
}
PRIVATE = {"id": CHAT, "type": "private", "first_name": "An"}
GROUP = {"id": -100200, "type": "supergroup", "title": "Hội cơ sở CNNT"}


def message(update_id: int = 7, **fields: Any) -> dict[str, Any]:
    body = {"message_id": 3, "date": DATE, "chat": PRIVATE, "from": USER, **fields}
    return {"update_id": update_id, "message": body}


def callback(data: str | None = "menu:contact", chat: dict | None = PRIVATE) -> dict[str, Any]:
    query: dict[str, Any] = {"id": "q1", "from": USER, "chat_instance": "ci"}
    if data is not None:
        query["data"] = data
    if chat is not None:
        query["message"] = {"message_id": 2, "date": DATE, "chat": chat, "from": BOT_USER}
    return {"update_id": 8, "callback_query": query}


def test_a_text_message():
    incoming = to_incoming(message(text="/start"))
    assert incoming is not None
    assert (incoming.channel, incoming.chat_id, incoming.user_id) == ("telegram", "5005", "5005")
    assert incoming.text == "/start" and incoming.payload is None and incoming.phone is None
    assert incoming.display_name == "An Nguyễn" and incoming.language == "vi"
    assert incoming.update_id == "7"
    assert incoming.time == datetime.fromtimestamp(DATE, UTC)


def test_names_as_python_telegram_bot_joins_them():
    assert full_name({"first_name": "An"}) == "An"
    assert full_name({"first_name": "An", "last_name": "Nguyễn"}) == "An Nguyễn"
    assert full_name({"first_name": "An", "last_name": ""}) == "An"


def test_an_edited_message_is_read_like_a_new_one():
    update = message(text="/help")
    update["edited_message"] = update.pop("message") | {"edit_date": DATE + 5}
    incoming = to_incoming(update)
    assert incoming is not None and incoming.text == "/help" and incoming.chat_id == "5005"


def test_a_caption_is_the_text_and_a_sticker_has_none():
    photo = [{"file_id": "P1", "file_unique_id": "u", "width": 90, "height": 90}]
    incoming = to_incoming(message(photo=photo, caption="Ảnh sản phẩm"))
    assert incoming is not None and incoming.text == "Ảnh sản phẩm"
    sticker = {"file_id": "S1", "file_unique_id": "s", "type": "regular", "width": 1, "height": 1}
    incoming = to_incoming(message(sticker=sticker, is_animated=False))
    assert incoming is not None and incoming.text is None and incoming.phone is None


def test_an_own_contact_is_a_phone_and_someone_elses_is_not():
    own = to_incoming(
        message(contact={"phone_number": "+84905123456", "first_name": "An", "user_id": CHAT})
    )
    assert own is not None and own.phone == "+84905123456" and own.text is None
    other = to_incoming(
        message(contact={"phone_number": "+84905000000", "first_name": "B", "user_id": 777})
    )
    assert other is not None and other.phone is None and other.text is None
    no_user = to_incoming(message(contact={"phone_number": "+84905000001", "first_name": "C"}))
    assert no_user is not None and no_user.phone is None


def test_a_button_tap():
    incoming = to_incoming(callback())
    assert incoming is not None and incoming.payload == "menu:contact" and incoming.text is None
    assert (incoming.chat_id, incoming.user_id, incoming.update_id) == ("5005", "5005", "8")
    assert incoming.display_name == "An Nguyễn" and incoming.language == "vi"
    assert abs((datetime.now(UTC) - incoming.time).total_seconds()) < 5
    # Without the message (too old for Telegram to include): the user's own chat.
    incoming = to_incoming(callback(chat=None))
    assert incoming is not None and incoming.chat_id == "5005"


def test_a_tap_in_a_group_or_without_data_is_ignored():
    assert to_incoming(callback(chat=GROUP)) is None
    assert to_incoming(callback(data=None)) is None  # a game's button


@pytest.mark.parametrize(
    "update",
    [
        message(text="/start", chat=GROUP),
        message(text="xin chào", **{"from": BOT_USER}),
        {"update_id": 9, "message": {"message_id": 1, "date": DATE, "chat": PRIVATE, "text": "a"}},
        {
            "update_id": 9,
            "channel_post": {
                "message_id": 1,
                "date": DATE,
                "text": "tin",
                "chat": {"id": -1001, "type": "channel"},
            },
        },
        {
            "update_id": 9,
            "inline_query": {"id": "1", "from": USER, "query": "hội chợ", "offset": ""},
        },
        {
            "update_id": 9,
            "my_chat_member": {
                "chat": PRIVATE,
                "from": USER,
                "date": DATE,
                "old_chat_member": {"status": "member", "user": USER},
                "new_chat_member": {"status": "kicked", "user": USER, "until_date": 0},
            },
        },
        {"update_id": 9},
    ],
    ids=["group", "from a bot", "no sender", "channel", "inline query", "membership", "empty"],
)
def test_updates_the_bot_does_not_answer(update: dict[str, Any]):
    assert to_incoming(update) is None


# --- through the running bot --------------------------------------------------------------


async def stored(bot: RunningBot) -> dict[str, str | None]:
    async with bot.app.sessions() as session:
        rows = await session.execute(select(InboxEvent.external_id, InboxEvent.raw))
    return {external_id: raw for external_id, raw in rows}


async def test_updates_are_stored_as_received(running_bot: RunningBot, fake_telegram: FakeTelegram):
    first = fake_telegram.push_message(CHAT, "/start", first_name="Bình", last_name="Trần")
    await fake_telegram.wait_for_messages(CHAT, 1)
    fake_telegram.push_callback(CHAT, "menu:contact")
    await fake_telegram.wait_for_messages(CHAT, 2)
    raws = await stored(running_bot)
    message_raw = json.loads(raws[str(first)] or "")
    assert message_raw["update_id"] == first
    assert message_raw["message"]["text"] == "/start"
    assert message_raw["message"]["from"]["last_name"] == "Trần"
    assert "Trần" in (raws[str(first)] or "")  # as received, not \\u-escaped
    [tap] = [json.loads(r or "") for k, r in raws.items() if k != str(first)]
    assert tap["callback_query"]["data"] == "menu:contact"
    assert len(fake_telegram.calls_to("answerCallbackQuery")) == 1


async def test_a_malformed_update_is_skipped_and_the_rest_answered(
    running_bot: RunningBot, fake_telegram: FakeTelegram, caplog: pytest.LogCaptureFixture
):
    fake_telegram.push_update(
        {"message": {"message_id": 1, "chat": PRIVATE, "from": USER, "text": "no date"}}
    )
    fake_telegram.push_message(CHAT, "/help")
    [reply] = await fake_telegram.wait_for_messages(CHAT, 1)
    assert "Lệnh:" in reply["text"]
    await fake_telegram.wait_for(lambda f: f.pending_updates == 0)  # both confirmed
    assert any("ignored" in r.getMessage() for r in caplog.records)
    assert len(await stored(running_bot)) == 1


async def test_a_block_marks_the_user_unreachable(
    running_bot: RunningBot, fake_telegram: FakeTelegram
):
    from db.repos.core import UserRepo

    fake_telegram.push_message(CHAT, "/start")
    fake_telegram.push_message(6006, "/start")
    await fake_telegram.wait_for_messages(CHAT, 1)
    await fake_telegram.wait_for_messages(6006, 1)

    def change(chat_id: int, status: str) -> dict[str, Any]:
        user = USER | {"id": chat_id}
        return {
            "my_chat_member": {
                "chat": PRIVATE | {"id": chat_id},
                "from": user,
                "date": DATE,
                "old_chat_member": {"status": "member", "user": BOT_USER},
                "new_chat_member": {"status": status, "user": BOT_USER, "until_date": 0},
            }
        }

    fake_telegram.push_update(change(CHAT, "kicked"))
    fake_telegram.push_update(change(6006, "member"))
    await fake_telegram.wait_for(lambda f: f.pending_updates == 0)
    await running_bot.transport.stop()  # waits for the note it started
    async with running_bot.app.sessions() as session:
        blocked = await UserRepo(session).get("telegram", str(CHAT))
        other = await UserRepo(session).get("telegram", "6006")
    assert blocked is not None and blocked.unreachable
    assert other is not None and not other.unreachable
