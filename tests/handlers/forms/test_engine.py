"""The form engine as users meet it, in both dialogues (reminder subscription and intake),
through the real app: typing instead of tapping never drops anyone out of a dialogue."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from bot.app import build_app
from db.models.core import Conversation
from db.models.drafts import Draft
from db.repos.core import UserRepo
from db.repos.events import SubscriptionRepo
from handlers.forms.engine import NO_SKIP
from handlers.menu import STALE_SHORT
from tests.auxil.app import ChatUser, make_settings
from tests.auxil.intake import drafts_of, open_intake

QUIT_WORDS = ["hủy", "huỷ", "thôi", "thoát", "dừng", "huy", "thoi", "thoat", "dung"]
ASKED = "Hỏi hỗ trợ máy móc tối đa bao nhiêu?"


async def _subscription(app, chat_id):
    async with app.sessions() as session:
        user = await UserRepo(session).get("telegram", chat_id)
        return await SubscriptionRepo(session).get(user.id)


async def _open_reminders(user: ChatUser) -> None:
    await user.send("/start")
    await user.tap("Nhắc lịch")
    await user.tap("Bật nhắc lịch")
    assert "1/3" in user.text


async def _open_intake(user: ChatUser) -> None:
    await user.send("/start")
    await open_intake(user)
    assert "Bước 1/15" in user.text


async def _in_dialogue(app, user: ChatUser) -> str | None:
    """The dialogue the chat is in, as saved in the database."""
    async with app.sessions() as session:
        row = await session.get(Conversation, (user.channel, user.chat_id))
        return row.dialogue if row is not None else None


# --- typed answers at button steps -------------------------------------------------------


async def test_typed_all_at_reminder_step_1_selects_all_and_goes_on(app):
    user = ChatUser(app, chat_id="2001")
    await _open_reminders(user)
    await user.tap("Hạn nộp")  # untick one
    await user.send("tat ca")
    assert "2/3" in user.text and STALE_SHORT not in user.text
    await user.tap("Cả nước")
    assert "3/3" in user.text
    await user.send("thu cong my nghe, co khi")  # two sectors typed
    assert "✅ Đã bật nhắc lịch" in user.text
    sub = await _subscription(app, "2001")
    assert sub.kinds == [] and sub.province is None and sub.sectors == ["craft", "mech"]


async def test_typed_labels_without_diacritics_and_unknown_text_at_button_steps(app):
    user = ChatUser(app, chat_id="2002")
    await _open_reminders(user)
    labels = user.labels
    await user.send("bong da")  # matches no button: the hint and the same buttons
    assert "Bạn bấm để bật/tắt" in user.text and "1/3" in user.text
    assert user.labels == labels
    await user.send("hoi cho, tap huan")
    assert "2/3" in user.text
    await user.send("ca nuoc")  # the «Cả nước» button, typed
    assert "3/3" in user.text
    await user.send("xong")
    assert "✅ Đã bật nhắc lịch" in user.text
    sub = await _subscription(app, "2002")
    assert sub.kinds == ["trade_fair", "training"] and sub.province is None


async def test_typed_answers_at_intake_button_steps(app):
    user = ChatUser(app, chat_id="2003")
    await _open_intake(user)
    await user.send("xuc tien thuong mai?!")  # not a content: hint, same step
    assert "Bước 1/15" in user.text
    await user.send("may moc thiet bi")
    assert "Bước 2/15" in user.text
    await user.send("Hợp tác xã")
    assert "Bước 3/15" in user.text
    await user.send("thu cong my nghe")
    assert "Bước 4/15" in user.text
    [draft] = await drafts_of(app, "2003")
    assert draft.answers["support"] == "machinery" and draft.answers["kind"] == "coop"
    assert draft.answers["sector"] == "craft"


# --- quitting ------------------------------------------------------------------------------


@pytest.mark.parametrize("word", QUIT_WORDS)
async def test_each_quit_word_leaves_the_intake_keeping_the_answers(sqlite_url, word):
    app = await build_app(make_settings(sqlite_url))
    try:
        user = ChatUser(app, chat_id="2004")
        await _open_intake(user)
        await user.tap("Máy móc")
        await user.send(word)
        assert "Đã dừng" in user.text and "vẫn được lưu" in user.text
        assert await _in_dialogue(app, user) is None
        [draft] = await drafts_of(app, "2004")
        assert draft.status == "in_progress" and draft.answers["support"] == "machinery"
        await open_intake(user)
        assert "tiếp tục hay làm lại" in user.text
    finally:
        await app.close()


@pytest.mark.parametrize("word", ["huỷ", "thôi", "dừng"])
async def test_quit_words_leave_the_reminder_subscription_unchanged(sqlite_url, word):
    app = await build_app(make_settings(sqlite_url))
    try:
        user = ChatUser(app, chat_id="2005")
        await _open_reminders(user)
        await user.tap("Tiếp")
        await user.send(word)
        assert "Đã dừng" in user.text
        assert await _in_dialogue(app, user) is None
        assert await _subscription(app, "2005") is None
        await user.send(word)  # nothing left to stop
        assert "không có việc gì đang làm dở" in user.text
    finally:
        await app.close()


async def test_correct_with_diacritics_is_not_a_quit(app):
    user = ChatUser(app, chat_id="2006")
    await _open_intake(user)
    await user.send("đúng")
    assert "Bước 1/15" in user.text and await _in_dialogue(app, user) == "intake"


# --- skipping ------------------------------------------------------------------------------


async def test_skip_only_where_allowed(app):
    user = ChatUser(app, chat_id="2007")
    await _open_intake(user)
    await user.send("bo qua")
    assert NO_SKIP in user.text and "Bước 1/15" in user.text
    for answer in ("may moc", "ho kinh doanh", "thu cong my nghe"):
        await user.send(answer)
    await user.send("quang ngai")
    await user.tap("Quảng Ngãi")
    await user.send("nghia hanh")
    await user.tap("Nghĩa Hành")
    assert "Bước 6/15" in user.text
    await user.send("bo qua")  # the facility's name can't be skipped
    assert NO_SKIP in user.text and "Bước 6/15" in user.text
    [draft] = await drafts_of(app, "2007")
    assert "facility_name" not in draft.answers and draft.facility_name is None
    await user.send("Cơ sở mây tre Minh Phát")
    await user.send("Bỏ qua")  # the registration number may be skipped
    assert "Bước 8/15" in user.text
    [draft] = await drafts_of(app, "2007")
    assert draft.answers["reg_no"] == "" and draft.facility_name == "Cơ sở mây tre Minh Phát"


# --- questions mid-dialogue ----------------------------------------------------------------


async def _faq_answer(app, question: str) -> str:
    """What the FAQ answers outside any dialogue."""
    other = ChatUser(app, chat_id="2999")
    await other.send(question)
    return other.last[0].text


async def test_a_question_at_a_reminder_step_is_answered_then_the_step_again(app):
    expected = await _faq_answer(app, ASKED)
    user = ChatUser(app, chat_id="2008")
    await _open_reminders(user)
    replies = await user.send(ASKED)
    assert replies[0].text == expected and not replies[0].buttons
    assert "1/3" in replies[-1].text and await _in_dialogue(app, user) == "reminders"
    await user.tap("Tiếp")  # the buttons of the step asked again work
    assert "2/3" in user.text


async def test_a_question_at_a_free_text_step_is_never_the_answer(app):
    user = ChatUser(app, chat_id="2009")
    await _open_intake(user)
    for answer in ("may moc", "ho kinh doanh", "thu cong my nghe"):
        await user.send(answer)
    await user.send("quang ngai")
    await user.tap("Quảng Ngãi")
    await user.send("nghia hanh")
    await user.tap("Nghĩa Hành")
    await user.send("Cơ sở mây tre Minh Phát")
    await user.send("bỏ qua")
    assert "Bước 8/15" in user.text
    await user.send("ho so nay co mat phi khong?")
    assert "Bước 8/15" in user.text and "Ví dụ: Nguyễn Văn An" in user.text
    [draft] = await drafts_of(app, "2009")
    assert "owner_name" not in draft.answers
    expected = await _faq_answer(app, ASKED)
    replies = await user.send(ASKED)
    assert replies[0].text == expected and "Bước 8/15" in replies[-1].text
    await user.send("Nguyễn Văn An")
    assert "Bước 9/15" in user.text


async def test_a_question_at_the_province_step_is_not_taken_for_a_place(app):
    expected = await _faq_answer(app, ASKED)
    user = ChatUser(app, chat_id="2016")
    await _open_intake(user)
    for answer in ("may moc", "ho kinh doanh", "thu cong my nghe"):
        await user.send(answer)
    assert "Bước 4/15" in user.text
    replies = await user.send(ASKED)
    assert replies[0].text == expected and "Bước 4/15" in replies[-1].text
    assert not any(":prov:" in p for p in user.payloads)  # no province offered
    await user.send("quang ngai")
    await user.tap("Quảng Ngãi")
    assert "Bước 5/15" in user.text


async def test_quit_at_the_resume_question(app):
    user = ChatUser(app, chat_id="2017")
    await _open_intake(user)
    await user.tap("Máy móc")
    await user.send("/menu")
    await open_intake(user)
    assert "tiếp tục hay làm lại" in user.text
    await user.send("thôi")
    assert "vẫn được lưu" in user.text and await _in_dialogue(app, user) is None


# --- restart, stale buttons, odd input -------------------------------------------------------


async def test_reminder_subscription_resumes_after_a_restart(sqlite_url):
    app = await build_app(make_settings(sqlite_url))
    user = ChatUser(app, chat_id="2010")
    await _open_reminders(user)
    await user.tap("Hội nghị")  # untick conferences
    await user.tap("Tiếp")
    assert "2/3" in user.text
    await app.close()

    app2 = await build_app(make_settings(sqlite_url))
    try:
        user = ChatUser(app2, chat_id="2010")
        await user.send("quang ngai")
        assert "3/3" in user.text
        await user.send("tat ca")
        sub = await _subscription(app2, "2010")
        assert sub.province == "Quảng Ngãi" and "conference" not in sub.kinds
        assert sub.sectors == []  # every sector
    finally:
        await app2.close()


async def test_a_stale_button_re_asks_the_current_step(app):
    user = ChatUser(app, chat_id="2011")
    await _open_reminders(user)
    old = [p for p in user.payloads if ":tog:kinds:" in p][0]
    await user.tap("Tiếp")
    await user.send(payload=old)
    assert STALE_SHORT in user.text and "2/3" in user.text
    assert await _in_dialogue(app, user) == "reminders"
    await user.send(payload="reminders:pick:sectors:craft")  # a step not reached yet
    assert STALE_SHORT in user.text and "2/3" in user.text


@pytest.mark.parametrize(
    ("typed", "says"),
    [
        ("👍👍", "bằng chữ"),
        ("x" * 10_000, "dài quá"),
        ("", "Tin nhắn trống"),
        ("   ", "Tin nhắn trống"),
    ],
)
async def test_emoji_huge_and_empty_messages_keep_the_step(app, typed, says):
    user = ChatUser(app, chat_id="2012")
    await _open_intake(user)
    await user.send("may moc")
    await user.send("ho kinh doanh")
    await user.tap("Ngành khác")
    await user.send(typed)
    assert says in user.text and "Bước 3/15" in user.text
    assert len(user.text) < 1000
    await user.send("che bien go")
    assert "Bước 4/15" in user.text


async def test_odd_input_at_a_reminder_button_step(app):
    user = ChatUser(app, chat_id="2013")
    await _open_reminders(user)
    for typed in ("👍", "x" * 10_000, "1234"):
        await user.send(typed)
        assert "1/3" in user.text and len(user.text) < 1000
    assert await _in_dialogue(app, user) == "reminders"


async def test_numbers_press_buttons_on_a_channel_without_buttons(app):
    user = ChatUser(app, chat_id="2014", channel="terminal")
    await _open_reminders(user)
    await user.send("1")  # the first button: untick deadlines
    assert any(label.startswith("⬜") and "Hạn nộp" in label for label in user.labels)
    await user.send("tiep")
    assert "2/3" in user.text


async def test_draft_rows_follow_the_dialogue(app):
    user = ChatUser(app, chat_id="2015")
    await _open_intake(user)
    await user.send("may moc")
    async with app.sessions() as session:
        [draft] = (await session.scalars(select(Draft).where(Draft.chat_id == "2015"))).all()
        assert draft.step == "kind" and draft.support_type == "machinery"
