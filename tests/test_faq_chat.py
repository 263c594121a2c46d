"""The FAQ in the chat, through the engine, on SQLite and PostgreSQL."""

from __future__ import annotations

from db.repos.faq import UnansweredRepo
from tests.auxil.app import ChatUser


async def _unanswered(app) -> list:
    async with app.sessions() as session:
        return list(await UnansweredRepo(session).list())


async def test_question_without_diacritics_gets_answer_with_source(app):
    user = ChatUser(app)
    await user.send("ho tro may moc thiet bi duoc bao nhieu tien")
    assert "Nguồn:" in user.text
    assert "300 triệu" in user.text
    assert any("Menu" in label for label in user.labels)
    assert await _unanswered(app) == []


async def test_teencode_question(app):
    user = ChatUser(app)
    await user.send("ko co dkkd co dc ho tro k")
    assert "Nguồn:" in user.text
    assert "hộ kinh doanh" in user.text.lower()


async def test_out_of_scope_falls_back_offers_staff_and_is_kept(app):
    user = ChatUser(app)
    await user.send("giá vàng hôm nay bao nhiêu")
    assert "chỉ trả lời được câu hỏi về khuyến công" in user.text
    assert "✍️ Hỏi cán bộ" in user.labels
    assert not any(p.startswith("faq:e:") for p in user.payloads)  # no unrelated entries
    stored = await _unanswered(app)
    assert [q.text for q in stored] == ["giá vàng hôm nay bao nhiêu"]
    assert stored[0].channel == "telegram" and stored[0].chat_id == user.chat_id


async def test_greeting_and_thanks_are_not_fallbacks(app):
    user = ChatUser(app)
    await user.send("chào bạn")
    assert "chưa chắc" not in user.text and "Chào bạn" in user.text
    await user.send("cam on nhieu")
    assert "Không có gì" in user.text
    assert await _unanswered(app) == []


async def test_browse_topics_and_read_an_entry(app):
    user = ChatUser(app)
    await user.send("/start")
    await user.tap("Hỏi đáp")
    assert "chủ đề" in user.text
    assert len(user.labels) <= 8  # a phone screen, not a wall of buttons
    await user.tap("Nội dung hỗ trợ")
    await user.tap("Máy móc")
    assert len(user.labels) >= 3
    await user.send(
        payload=next(
            b.payload for r in user.last for b in r.all_buttons() if b.payload.startswith("faq:e:")
        )
    )
    assert "Nguồn:" in user.text


async def test_ask_staff_keeps_the_question(app):
    """«Hỏi cán bộ» under an unsure answer opens a ticket (handlers/tickets); what the user
    writes while it is open goes to staff, and after «Đã xong» the FAQ answers again."""
    from sqlalchemy import select

    from db.models.handoff import Ticket

    user = ChatUser(app)
    await user.send("thủ tục ly hôn")
    await user.tap("Hỏi cán bộ")
    assert "«thủ tục ly hôn»" in user.text  # the unanswered question, offered
    await user.tap("Gõ câu khác")
    assert "gõ câu hỏi" in user.text
    await user.send("Xưởng tôi ở phường Hội An có được hỗ trợ máy sấy không?")
    await user.tap("Không cần")
    assert "Đã gửi câu hỏi #" in user.text
    async with app.sessions() as session:
        texts = [t.question for t in (await session.scalars(select(Ticket))).all()]
    assert "Xưởng tôi ở phường Hội An có được hỗ trợ máy sấy không?" in texts
    await user.send("khuyen cong la gi")
    assert "Nguồn:" not in user.text and "câu hỏi #" in user.text
    await user.tap("Đã xong")
    # back to normal: the next question is answered, not stored
    await user.send("khuyen cong la gi")
    assert "Nguồn:" in user.text


async def test_stale_entry_button(app):
    user = ChatUser(app)
    await user.send(payload="faq:e:entry-that-was-removed")
    assert "Nút này đã cũ" in user.text


async def test_contact_answer_uses_settings_not_hard_coded(app):
    user = ChatUser(app)
    await user.send("cho xin sdt can bo kc")
    assert "0235 3812 345" in user.text


async def test_a_bare_abbreviation_offers_the_closest_entries(app):
    user = ChatUser(app)
    await user.send("cnnt")
    assert "Nguồn:" not in user.text
    assert any(p.startswith("faq:e:") for p in user.payloads)
    assert "📚 Xem theo chủ đề" in user.labels


async def test_one_or_two_words_ask_what_exactly(app):
    user = ChatUser(app)
    await user.send("ho tro")
    assert "cụ thể" in user.text
    assert any(p.startswith("faq:e:") for p in user.payloads)
    assert "Nguồn:" not in user.text
    assert await _unanswered(app) == []
    await user.send("khuyen cong")  # a near-certain short question is answered
    assert "Nguồn:" in user.text


def test_every_topic_is_in_exactly_one_browse_group():
    from handlers.faq import TOPIC_GROUPS
    from knowledge.content import TOPICS

    grouped = [t for _, topics in TOPIC_GROUPS for t in topics]
    assert sorted(grouped) == sorted(TOPICS)
