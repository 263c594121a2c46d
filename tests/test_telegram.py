"""The bot on Telegram, through python-telegram-bot and a fake Bot API, as a user sees it.

Every test runs on SQLite and on PostgreSQL (``db_url``).
"""

from __future__ import annotations

import logging

import pytest

from bot.channels import Outcome
from bot.transports.telegram import PHONE_BUTTON, TelegramTransport, split_text
from bot.types import Button, Document, Reply
from tests.auxil.fake_telegram import FakeTelegram
from tests.auxil.telegram import RunningBot

CHAT = 1001
MENU_LABELS = [
    "❓ Hỏi đáp khuyến công",
    "📝 Tạo hồ sơ đề nghị hỗ trợ",
    "📅 Nhắc lịch & hội chợ",
    "☎️ Liên hệ cán bộ",
]


def labels(message: dict) -> list[str]:
    markup = message.get("reply_markup") or {}
    return [b["text"] for row in markup.get("inline_keyboard", []) for b in row]


def payloads(message: dict) -> list[str]:
    markup = message.get("reply_markup") or {}
    return [b["callback_data"] for row in markup.get("inline_keyboard", []) for b in row]


def errors(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR]


async def test_start_shows_welcome_and_menu(running_bot: RunningBot, fake_telegram: FakeTelegram):
    fake_telegram.push_message(CHAT, "/start")
    [welcome] = await fake_telegram.wait_for_messages(CHAT, 1)
    assert "Trợ lý Khuyến công" in welcome["text"]
    assert labels(welcome) == MENU_LABELS
    assert "parse_mode" not in welcome  # plain text: nothing the user typed is markup
    assert fake_telegram.rejected == []


async def test_contact_button_is_answered_and_shows_the_centre(
    running_bot: RunningBot, fake_telegram: FakeTelegram
):
    fake_telegram.push_message(CHAT, "/start")
    await fake_telegram.wait_for_messages(CHAT, 1)
    fake_telegram.push_callback(CHAT, "menu:contact")
    messages = await fake_telegram.wait_for_messages(CHAT, 2)
    assert "0235 3812 345" in messages[-1]["text"]
    assert "Trung tâm Khuyến công tỉnh Thử Nghiệm" in messages[-1]["text"]
    assert len(fake_telegram.calls_to("answerCallbackQuery")) == 1
    assert fake_telegram.rejected == []


async def test_commands_listed_in_vietnamese(running_bot: RunningBot, fake_telegram: FakeTelegram):
    calls = fake_telegram.calls_to("setMyCommands")
    by_language = {c["params"].get("language_code"): c["params"]["commands"] for c in calls}
    assert set(by_language) == {"vi", None}
    for commands in by_language.values():
        described = {c["command"]: c["description"] for c in commands}
        assert described["start"] == "Bắt đầu"
        assert described["cancel"] == "Dừng việc đang làm"


async def test_dialogue_survives_a_restart(running_bot: RunningBot, fake_telegram: FakeTelegram):
    from db.repos.core import ConversationRepo

    fake_telegram.push_message(CHAT, "/start")
    await fake_telegram.wait_for_messages(CHAT, 1)
    async with running_bot.app.sessions() as session, session.begin():
        conv = await ConversationRepo(session).lock("telegram", str(CHAT))
        conv.dialogue, conv.step, conv.data = "intake", "name", {"name": "Cơ sở Hòa Bình"}

    await running_bot.restart()  # a new Application, engine and database pool

    fake_telegram.push_message(CHAT, "/cancel")
    messages = await fake_telegram.wait_for_messages(CHAT, 2)
    assert "Đã dừng" in messages[-1]["text"]
    fake_telegram.push_message(CHAT, "/cancel")
    messages = await fake_telegram.wait_for_messages(CHAT, 3)
    assert "không có việc gì" in messages[-1]["text"]


async def test_redelivered_update_is_answered_once(
    running_bot: RunningBot, fake_telegram: FakeTelegram
):
    fake_telegram.push_message(CHAT, "/start", update_id=900)
    await fake_telegram.wait_for_messages(CHAT, 1)
    fake_telegram.push_message(CHAT, "/start", update_id=900)  # Telegram sends it again
    fake_telegram.push_message(CHAT, "/help", update_id=901)
    messages = await fake_telegram.wait_for_messages(CHAT, 2)
    assert "Lệnh:" in messages[-1]["text"]
    await fake_telegram.wait_for(lambda f: f.pending_updates == 0)
    assert len(fake_telegram.sent_to(CHAT)) == 2


STICKER = {
    "sticker": {
        "file_id": "CAAC",
        "file_unique_id": "AQAD",
        "width": 512,
        "height": 512,
        "is_animated": False,
        "is_video": False,
        "type": "regular",
    }
}
PHOTO = {"photo": [{"file_id": "AgAC", "file_unique_id": "AQAE", "width": 90, "height": 67}]}


async def test_bad_input_gets_a_clear_reply(
    running_bot: RunningBot, fake_telegram: FakeTelegram, caplog: pytest.LogCaptureFixture
):
    caplog.set_level(logging.INFO)
    inputs: list[tuple[str, object]] = [
        ("sticker", STICKER),
        ("photo", PHOTO),
        ("text", "x" * 10_000),
        ("text", "😀😀😀"),
        ("text", "/khonglenhnay"),
        ("button", "menu:old"),
        ("button", "xyz"),
        ("text", "'; DROP TABLE users; --"),
        ("text", "<b>xin chào</b> _nghiêng_ <script>alert(1)</script>"),
    ]
    seen = 0
    for kind, value in inputs:
        if kind == "button":
            fake_telegram.push_callback(CHAT, str(value))
        elif kind == "text":
            fake_telegram.push_message(CHAT, str(value))
        else:
            fake_telegram.push_message(CHAT, None, extra=dict(value))  # type: ignore[call-overload]
        messages = await fake_telegram.wait_for_messages(CHAT, seen + 1)
        reply = messages[-1]["text"]
        assert reply.strip() and "Traceback" not in reply, (kind, value)
        if kind in ("sticker", "photo"):
            assert "chỉ đọc được tin nhắn chữ" in reply
        if value == "/khonglenhnay":
            assert "không có lệnh" in reply
        if kind == "button":
            assert "Nút này đã cũ" in reply
            assert labels(messages[-1]) == MENU_LABELS
        seen = len(messages)
    assert len(fake_telegram.calls_to("answerCallbackQuery")) == 2
    # the database survived the SQL-looking text
    fake_telegram.push_message(CHAT, "/start")
    messages = await fake_telegram.wait_for_messages(CHAT, seen + 1)
    assert "Trợ lý Khuyến công" in messages[-1]["text"]
    assert fake_telegram.rejected == []
    assert all("parse_mode" not in c["params"] for c in fake_telegram.calls)
    assert errors(caplog) == []


async def test_group_chats_are_ignored_and_an_edit_is_answered_like_a_new_message(
    running_bot: RunningBot, fake_telegram: FakeTelegram
):
    group = {"id": -100200, "type": "group", "title": "Hội cơ sở CNNT"}
    fake_telegram.push_message(CHAT, "/start", extra={"chat": group})
    fake_telegram.push_update(
        {
            "edited_message": {
                "message_id": 5,
                "date": 1,
                "edit_date": 2,
                "text": "/help",
                "chat": {"id": CHAT, "type": "private"},
                "from": {"id": CHAT, "is_bot": False, "first_name": "An"},
            }
        }
    )
    fake_telegram.push_message(CHAT, "/menu")
    edited, menu = await fake_telegram.wait_for_messages(CHAT, 2)
    assert "Lệnh:" in edited["text"]
    assert labels(menu) == MENU_LABELS
    await fake_telegram.wait_for(lambda f: f.pending_updates == 0)
    assert fake_telegram.sent_to(-100200) == []
    assert len(fake_telegram.sent_to(CHAT)) == 2


async def test_a_stale_button_whose_query_expired_is_still_handled(
    running_bot: RunningBot, fake_telegram: FakeTelegram, caplog: pytest.LogCaptureFixture
):
    fake_telegram.fail_next(
        "answerCallbackQuery",
        status=400,
        description="Bad Request: query is too old and response timeout expired or query ID "
        "is invalid",
    )
    fake_telegram.push_callback(CHAT, "menu:contact", message_id=3)
    [reply] = await fake_telegram.wait_for_messages(CHAT, 1)
    assert "0235 3812 345" in reply["text"]
    assert errors(caplog) == []


async def test_shared_phone_number_reaches_the_engine(
    running_bot: RunningBot, fake_telegram: FakeTelegram
):
    from bot.types import Incoming, incoming_from_json

    seen: list[Incoming] = []
    engine = running_bot.app.engine
    original = engine.process

    async def spy(event, token):  # what the inbox hands the engine
        seen.append(incoming_from_json(event.incoming))
        return await original(event, token)

    engine.process = spy  # type: ignore[method-assign]
    fake_telegram.push_contact(CHAT, "+84905123456")
    fake_telegram.push_contact(CHAT, "+84905000000", user_id=777)  # someone else's card
    await fake_telegram.wait_for_messages(CHAT, 2)
    assert seen[0].phone == "+84905123456" and seen[0].text is None
    assert seen[1].phone is None
    assert seen[0].display_name == "An Nguyễn" and seen[0].update_id
    assert seen[0].language == "vi"


# --- sending -----------------------------------------------------------------------------


def test_split_text_prefers_paragraphs_then_lines_then_a_hard_cut():
    para = "Đoạn một. " * 300  # ~3,000 characters
    text = f"{para.strip()}\n\n{para.strip()}\n\n{para.strip()}"
    parts = split_text(text)
    assert len(parts) == 3 and all(p == para.strip() for p in parts)

    lines = "\n".join(f"dòng {i:04d} " + "a" * 40 for i in range(300))
    parts = split_text(lines)
    assert all(len(p) <= 4096 for p in parts) and len(parts) > 1
    assert "\n".join(parts) == lines

    solid = "x" * 10_000
    parts = split_text(solid)
    assert [len(p) for p in parts] == [4096, 4096, 1808]

    emoji = "😀" * 3000  # 6,000 UTF-16 units: Telegram counts each emoji twice
    parts = split_text(emoji)
    assert "".join(parts) == emoji and all(len(p) <= 2048 for p in parts)

    assert split_text("ngắn") == ["ngắn"]


async def test_long_reply_is_split_with_buttons_on_the_last_part(
    running_bot: RunningBot, fake_telegram: FakeTelegram
):
    item = " ".join(["nội dung hỗ trợ khuyến công"] * 20)
    text = "\n\n".join(f"Mục {i}: {item}" for i in range(30))
    assert len(text) > 4096 * 3
    reply = Reply(text, buttons=[[Button("🏠 Menu", "menu:home")]])
    await running_bot.transport.sender.send(str(CHAT), reply)
    messages = fake_telegram.sent_to(CHAT)
    assert len(messages) == 5 or len(messages) == 4
    assert all(len(m["text"]) <= 4096 for m in messages)
    assert [bool(labels(m)) for m in messages] == [False] * (len(messages) - 1) + [True]
    assert "\n\n".join(m["text"] for m in messages) == text
    assert fake_telegram.rejected == []


async def test_user_text_is_never_parsed_as_markup(
    running_bot: RunningBot, fake_telegram: FakeTelegram
):
    await running_bot.transport.sender.send(str(CHAT), Reply("Bạn gõ: <b>đậm *sao* _gạch_ [x](y)"))
    [message] = fake_telegram.sent_to(CHAT)
    assert message["text"] == "Bạn gõ: <b>đậm *sao* _gạch_ [x](y)"
    assert "parse_mode" not in message


async def test_flood_wait_is_honoured(
    running_bot: RunningBot, fake_telegram: FakeTelegram, caplog: pytest.LogCaptureFixture
):
    fake_telegram.fail_next("sendMessage", status=429, retry_after=1)
    fake_telegram.push_message(CHAT, "/start")
    [welcome] = await fake_telegram.wait_for_messages(CHAT, 1, timeout=8)
    assert labels(welcome) == MENU_LABELS
    attempts = fake_telegram.calls_to("sendMessage")
    assert [c["status"] for c in attempts] == [429, 200]
    assert attempts[1]["time"] - attempts[0]["time"] >= 1.0  # waited as asked
    assert errors(caplog) == []


@pytest.mark.parametrize("status", [500, 502])
async def test_server_errors_are_retried(
    running_bot: RunningBot, fake_telegram: FakeTelegram, status: int
):
    fake_telegram.fail_next("sendMessage", status=status, count=2)
    fake_telegram.push_message(CHAT, "/start")
    [welcome] = await fake_telegram.wait_for_messages(CHAT, 1, timeout=8)
    assert "Trợ lý Khuyến công" in welcome["text"]


async def test_blocked_user_is_marked_and_others_still_served(
    running_bot: RunningBot, fake_telegram: FakeTelegram, caplog: pytest.LogCaptureFixture
):
    from db.repos.core import UserRepo

    fake_telegram.block(CHAT)
    fake_telegram.push_message(CHAT, "/start")
    fake_telegram.push_message(2002, "/start")
    await fake_telegram.wait_for_messages(2002, 1)
    await fake_telegram.wait_for(lambda f: any(c["reason"] == "blocked" for c in f.calls))
    await running_bot.workers.stop()  # lets the updates being handled finish
    async with running_bot.app.sessions() as session:
        blocked = await UserRepo(session).get("telegram", str(CHAT))
        other = await UserRepo(session).get("telegram", "2002")
    assert blocked is not None and blocked.unreachable
    assert other is not None and not other.unreachable
    assert errors(caplog) == []


async def test_sender_reports_neutral_outcomes_in_one_attempt(
    running_bot: RunningBot, fake_telegram: FakeTelegram
):
    send = running_bot.transport.sender.send
    fake_telegram.fail_next("sendMessage", status=429, retry_after=7)
    flood = await send(str(CHAT), Reply("Thông báo hội chợ"))
    assert flood.outcome is Outcome.RATE_LIMITED and flood.retry_after == 7
    fake_telegram.block(CHAT)
    assert (await send(str(CHAT), Reply("Thông báo hội chợ"))).outcome is Outcome.UNREACHABLE
    bad = await send("không-phải-số", Reply("Thông báo hội chợ"))
    assert bad.outcome is Outcome.REJECTED
    fake_telegram.unblock(CHAT)
    fake_telegram.fail_next("sendMessage", status=502)
    assert (await send(str(CHAT), Reply("Thông báo hội chợ"))).outcome is Outcome.TRANSIENT
    assert (await send(str(CHAT), Reply("Thông báo hội chợ"))).outcome is Outcome.SENT
    assert [m["text"] for m in fake_telegram.sent_to(CHAT)] == ["Thông báo hội chợ"]
    assert len(fake_telegram.calls_to("sendMessage")) == 5  # one attempt each


async def test_phone_request_keyboard_then_removed_once(
    running_bot: RunningBot, fake_telegram: FakeTelegram
):
    send = running_bot.transport.sender.send
    await send(str(CHAT), Reply("Số điện thoại liên hệ?", request_phone=True))
    await send(str(CHAT), Reply("Cảm ơn bạn."))
    await send(str(CHAT), Reply("Bước tiếp theo."))
    asked, thanked, nxt = fake_telegram.sent_to(CHAT)
    keyboard = asked["reply_markup"]["keyboard"]
    assert keyboard[0][0]["text"] == PHONE_BUTTON and keyboard[0][0]["request_contact"]
    assert asked["reply_markup"]["one_time_keyboard"]
    assert thanked["reply_markup"] == {"remove_keyboard": True}
    assert nxt.get("reply_markup") is None


async def test_documents_with_short_and_long_captions(
    running_bot: RunningBot, fake_telegram: FakeTelegram
):
    send = running_bot.transport.sender.send
    doc = Document("don-de-nghi.docx", b"PK\x03\x04 fake docx", mime_type="application/zip")
    await send(
        str(CHAT),
        Reply("Đơn đề nghị đã điền sẵn.", document=doc, buttons=[[Button("🏠 Menu", "menu:home")]]),
    )
    long_caption = "Hướng dẫn nộp hồ sơ. " * 80  # > 1,024 characters
    await send(str(CHAT), Reply(long_caption, document=doc))
    first, text, second = fake_telegram.sent_to(CHAT)
    assert first["method"] == "sendDocument" and first["caption"] == "Đơn đề nghị đã điền sẵn."
    assert first["document"]["filename"] == "don-de-nghi.docx"
    assert labels(first) == ["🏠 Menu"]
    assert text["method"] == "sendMessage" and text["text"].strip() == long_caption.strip()
    assert second["method"] == "sendDocument" and "caption" not in second
    assert fake_telegram.rejected == []


async def test_transport_needs_a_token(db_url: str):
    from bot.app import build_app
    from tests.auxil.app import make_settings

    app = await build_app(make_settings(db_url))
    try:
        with pytest.raises(ValueError, match="TELEGRAM_BOT_TOKEN"):
            TelegramTransport(app)
    finally:
        await app.close()


async def test_payloads_fit_callback_data(running_bot: RunningBot, fake_telegram: FakeTelegram):
    fake_telegram.push_message(CHAT, "/help")
    [reply] = await fake_telegram.wait_for_messages(CHAT, 1)
    assert all(1 <= len(p.encode()) <= 64 for p in payloads(reply))
