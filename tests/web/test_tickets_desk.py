"""The staff desk (handlers.tickets.desk) the web pages, the chat and `kcbot tickets` share,
on SQLite and PostgreSQL: questions asked through the engine, answered from the desk."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import select

from db.models.handoff import Ticket
from db.repos.privacy import AuditRepo
from handlers.tickets import desk
from tests.auxil.app import ChatUser
from tests.auxil.handoff import payloads_of, queued_for, set_role

LAN = desk.web_staff("lan", "staff", "staff:web:lan")
ADMIN = desk.web_staff("quantri", "admin", "admin:web:quantri")


def _now() -> datetime:
    return datetime.now(UTC)


async def _ask(app, chat_id: str = "601", question: str = "Xin hỏi thủ tục hỗ trợ máy sấy?"):
    owner = ChatUser(app, chat_id=chat_id, name="Trần Thị Bình")
    await owner.send("/start")
    await owner.send("gặp cán bộ")
    await owner.send(question)
    await owner.tap("Không cần")
    async with app.sessions() as session:
        ticket = await session.scalar(
            select(Ticket).where(Ticket.chat_id == chat_id).order_by(Ticket.id.desc())
        )
    assert ticket is not None
    return owner, ticket


async def test_web_answer_reaches_the_asker_once_and_is_audited(app):
    owner, ticket = await _ask(app)
    async with app.sessions() as session, session.begin():
        outcome = await desk.answer(
            session, ticket.id, "Dạ, cơ sở chị được hỗ trợ 50%.", LAN, _now(), unique="f1"
        )
    assert outcome.ok and "Đã gửi câu trả lời" in outcome.message
    # The same form posted twice: nothing sent again.
    async with app.sessions() as session, session.begin():
        again = await desk.answer(
            session, ticket.id, "Dạ, cơ sở chị được hỗ trợ 50%.", LAN, _now(), unique="f1"
        )
    assert again.ok and "đã được gửi" in again.message
    texts = [m.text for m in await queued_for(app, "601")]
    assert texts.count("💬 Cán bộ lan trả lời (câu hỏi #1):\nDạ, cơ sở chị được hỗ trợ 50%.") == 1
    assert any(t.startswith("🙋 Cán bộ lan đã nhận câu hỏi") for t in texts)
    reply_row = [m for m in await queued_for(app, "601") if m.text.startswith("💬")][0]
    assert f"tickets:close:{ticket.id}" in payloads_of(reply_row)
    async with app.sessions() as session:
        fresh = await session.get(Ticket, ticket.id)
        assert fresh is not None and fresh.status == "taken" and fresh.answered_at is not None
        assert (fresh.staff_channel, fresh.staff_chat_id) == (None, "login:lan")
        actions = [(a.actor, a.action) for a in await AuditRepo(session).list()]
    assert ("staff:web:lan", "ticket.take") in actions
    assert actions.count(("staff:web:lan", "ticket.reply")) == 1


async def test_taken_in_chat_refused_on_the_web_unless_admin(app):
    staff = ChatUser(app, chat_id="961", name="Cán Bộ Hùng")
    await staff.send("/start")
    await set_role(app, staff, "staff")
    owner, ticket = await _ask(app)
    await staff.send(payload=f"tickets:take:{ticket.id}")
    async with app.sessions() as session, session.begin():
        refused = await desk.answer(session, ticket.id, "Trả lời", LAN, _now())
        not_taken = await desk.take_ticket(session, ticket.id, ADMIN, _now())
        closed_by_lan = await desk.close_ticket(session, ticket.id, LAN, _now())
    assert (
        not refused.ok and refused.message == f"Câu hỏi #{ticket.id} đã có cán bộ Cán Bộ Hùng nhận."
    )
    assert not not_taken.ok and not closed_by_lan.ok
    async with app.sessions() as session, session.begin():
        by_admin = await desk.answer(session, ticket.id, "Dạ có ạ.", ADMIN, _now())
        closed = await desk.close_ticket(session, ticket.id, ADMIN, _now())
    assert by_admin.ok and closed.ok
    texts = [m.text for m in await queued_for(app, "601")]
    # The admin answers in the name of the colleague who holds the question.
    assert any(t.startswith("💬 Cán bộ Cán Bộ Hùng trả lời") and "Dạ có ạ." in t for t in texts)
    assert any(t.startswith(f"✅ Cán bộ đã đóng câu hỏi #{ticket.id}") for t in texts)
    async with app.sessions() as session, session.begin():
        late = await desk.answer(session, ticket.id, "Thêm nữa", LAN, _now())
    assert not late.ok and late.message == f"Câu hỏi #{ticket.id} đã xong rồi."


async def test_follow_up_after_a_web_take_is_added_to_the_question(app):
    owner, ticket = await _ask(app)
    async with app.sessions() as session, session.begin():
        assert (await desk.take_ticket(session, ticket.id, LAN, _now())).ok
        assert "rồi" in (await desk.take_ticket(session, ticket.id, LAN, _now())).message
    await owner.send("Cơ sở em ở xã Nghĩa Hành")
    assert "thêm vào câu hỏi" in owner.text
    async with app.sessions() as session:
        fresh = await session.get(Ticket, ticket.id)
        assert fresh is not None and fresh.question.endswith("\nCơ sở em ở xã Nghĩa Hành")
        lines = await desk.history(session, fresh)
    assert [line.text for line in lines if line.who.startswith("cán bộ lan")] == ["nhận câu hỏi"]
    assert any(line.who == "gửi người hỏi" and "đã nhận" in line.text for line in lines)


async def test_empty_or_missing_or_too_long(app):
    _, ticket = await _ask(app)
    async with app.sessions() as session, session.begin():
        assert (await desk.answer(session, ticket.id, "  ", LAN, _now())).message == (
            "Bạn chưa gõ nội dung trả lời."
        )
        assert not (await desk.answer(session, ticket.id, "x" * 3501, LAN, _now())).ok
        assert (await desk.answer(session, 999, "Dạ", LAN, _now())).message == (
            "Không có câu hỏi #999."
        )
        assert not (await desk.close_ticket(session, 999, LAN, _now())).ok
    assert not [m for m in await queued_for(app, "601") if m.text.startswith("💬")]


async def test_queue_filters_and_pages(app):
    for i in range(3):
        await _ask(app, chat_id=f"70{i}", question=f"Câu hỏi số {i} về hỗ trợ máy móc?")
    # A question the FAQ could not answer lands in the same queue, source "unsure".
    asker = ChatUser(app, chat_id="800", name="Lê Văn Cường")
    await asker.send("/start")
    await asker.send("giá lúa hôm nay bao nhiêu")
    async with app.sessions() as session:
        total, page = await desk.queue(session, "waiting", "all", 0, 2)
        assert total == 4 and len(page) == 2 and page[0].id > page[1].id
        total, only = await desk.queue(session, "waiting", "unsure", 0, 10)
        assert total == 1 and only[0].chat_id == "800"
        assert (await desk.queue(session, "closed", "all", 0, 10))[0] == 0
        # Unknown values from the query string mean the defaults.
        assert (await desk.queue(session, "<script>", "x", 0, 10))[0] == 4
    async with app.sessions() as session, session.begin():
        assert (await desk.answer(session, page[0].id, "Dạ", LAN, _now())).ok
    async with app.sessions() as session:
        assert (await desk.queue(session, "waiting", "all", 0, 10))[0] == 3
        assert (await desk.queue(session, "open", "contact", 0, 10))[0] == 3
