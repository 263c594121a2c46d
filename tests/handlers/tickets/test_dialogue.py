"""Human handoff through the engine: an owner's question becomes a ticket, staff take and
answer it from their chat, the answer reaches the owner; ugly input included."""

from __future__ import annotations

from sqlalchemy import select

from db.models.handoff import Ticket
from db.repos.privacy import AuditRepo
from tests.auxil.app import ChatUser
from tests.auxil.handoff import payloads_of, queued_for, set_role


async def _staff(app, chat_id: str, name: str) -> ChatUser:
    staff = ChatUser(app, chat_id=chat_id, name=name)
    await staff.send("/start")
    await set_role(app, staff, "staff")
    return staff


async def _tickets(app) -> list[Ticket]:
    async with app.sessions() as session:
        return list((await session.scalars(select(Ticket).order_by(Ticket.id))).all())


async def test_question_reaches_staff_reply_reaches_owner_second_staff_refused(app):
    owner = ChatUser(app, chat_id="501", name="Trần Thị Bình")
    staff_a = await _staff(app, "901", "Lê Văn Cường")
    staff_b = await _staff(app, "902", "Phạm Thu Dung")

    await owner.send("/start")
    await owner.tap("Liên hệ cán bộ")
    await owner.tap("Gửi câu hỏi cho cán bộ")
    assert "gõ câu hỏi" in owner.text and "giờ làm việc" in owner.text
    # Not questions: refused, and nothing is sent to staff.
    for junk in ("ok", "ừ", "👍", "Ok ạ"):
        await owner.send(junk)
        assert "chưa phải câu hỏi" in owner.text
    await owner.send("   ")
    assert "gõ câu hỏi" in owner.text
    assert await _tickets(app) == []
    await owner.send("Cơ sở tôi làm bánh tráng có được hỗ trợ mua máy không ạ?")
    assert "số điện thoại" in owner.text
    await owner.tap("Không cần")
    assert "Đã gửi câu hỏi #" in owner.text and "24 giờ làm việc" in owner.text
    [ticket] = await _tickets(app)
    assert ticket.status == "open" and ticket.source == "contact"

    # Both staff chats get the notice with «Nhận» and «Trả lời».
    for staff in (staff_a, staff_b):
        [notice] = await queued_for(app, staff.chat_id)
        assert "bánh tráng" in notice.text and "Trần Thị Bình" in notice.text
        assert "Telegram" in notice.text
        assert payloads_of(notice) == [f"tickets:take:{ticket.id}", f"tickets:reply:{ticket.id}"]

    # The first to take it owns it; the second is refused.
    await staff_a.send(payload=f"tickets:take:{ticket.id}")
    assert f"đã nhận câu hỏi #{ticket.id}" in staff_a.text
    await staff_b.send(payload=f"tickets:take:{ticket.id}")
    assert "đã có cán bộ Lê Văn Cường nhận" in staff_b.text
    await staff_b.send(payload=f"tickets:reply:{ticket.id}")
    assert "đã có cán bộ Lê Văn Cường nhận" in staff_b.text
    await staff_b.send(f"/tl {ticket.id} Tôi trả lời thay")
    assert "đã có cán bộ" in staff_b.text
    told = [m.text for m in await queued_for(app, owner.chat_id)]
    assert any("Cán bộ Lê Văn Cường đã nhận" in t for t in told)

    # «Trả lời», then the next text is the answer.
    await staff_a.tap("Trả lời")
    assert "gõ câu trả lời" in staff_a.text
    await staff_a.send("Dạ có, chị chuẩn bị báo giá máy giúp em.")
    assert "Đã gửi câu trả lời" in staff_a.text
    answers = [m for m in await queued_for(app, owner.chat_id) if "trả lời" in m.text]
    assert len(answers) == 1
    assert answers[0].text.startswith("💬 Cán bộ Lê Văn Cường trả lời")
    assert "báo giá máy" in answers[0].text
    assert f"tickets:close:{ticket.id}" in payloads_of(answers[0])

    # The owner's next message goes to the staff member who holds the ticket.
    await owner.send("Dạ em cảm ơn, máy khoảng 200 triệu thì sao ạ?")
    assert "Đã chuyển tới cán bộ Lê Văn Cường" in owner.text
    forwarded = [m.text for m in await queued_for(app, staff_a.chat_id)]
    assert any("200 triệu" in t for t in forwarded)
    assert not any("200 triệu" in m.text for m in await queued_for(app, staff_b.chat_id))

    # /tl works too; then the owner closes and the staff member is told.
    await staff_a.send(f"/tl {ticket.id} Khoảng đó được anh nhé.")
    assert "Đã gửi câu trả lời" in staff_a.text
    await owner.tap("Đã xong")
    assert "Đã đóng câu hỏi" in owner.text
    [ticket] = await _tickets(app)
    assert ticket.status == "closed" and ticket.answered_at is not None
    assert any("đã đóng câu hỏi" in m.text for m in await queued_for(app, staff_a.chat_id))
    # After closing, the owner talks to the bot again.
    await owner.send("hỗ trợ máy móc bao nhiêu tiền")
    assert "Đã chuyển" not in owner.text
    async with app.sessions() as session:
        actions = [e.action for e in await AuditRepo(session).list()]
    assert actions.count("ticket.reply") == 2 and "ticket.take" in actions


async def test_owner_cannot_use_staff_actions(app):
    owner = ChatUser(app, chat_id="502")
    await owner.send("/start")
    await owner.send("cho em gặp người thật")
    await owner.send("Hồ sơ của tôi nộp ở đâu vậy?")
    await owner.tap("Không cần")
    [ticket] = await _tickets(app)
    intruder = ChatUser(app, chat_id="503")
    await intruder.send("/start")
    for payload in (f"tickets:take:{ticket.id}", f"tickets:reply:{ticket.id}", "tickets:queue"):
        await intruder.send(payload=payload)
        assert intruder.text == "Việc này chỉ dành cho cán bộ Trung tâm."
    await intruder.send(f"/tl {ticket.id} hack")
    assert intruder.text == "Việc này chỉ dành cho cán bộ Trung tâm."
    await intruder.send(payload=f"tickets:close:{ticket.id}")
    assert (await _tickets(app))[0].status == "open"


async def test_typed_request_phone_and_queue(app):
    owner = ChatUser(app, chat_id="504", name="Vo Van Em")
    staff = await _staff(app, "904", "Cán Bộ Một")
    await owner.send("/start")
    await owner.send("gap can bo")
    assert "gõ câu hỏi" in owner.text
    await owner.send("x" * 10_000)
    await owner.tap("Để lại số")
    # The data notice comes before a phone number is stored.
    if "Đồng ý" in " ".join(owner.labels):
        await owner.tap("Đồng ý")
    await owner.send("12345")
    assert "chưa đúng" in owner.text
    await owner.send("0912 345 678")
    assert "0912345678" in owner.text
    [ticket] = await _tickets(app)
    assert ticket.phone == "0912345678" and len(ticket.question) <= 2000
    await staff.send(payload="tickets:queue")
    assert f"#{ticket.id}" in staff.text and "Câu hỏi chờ trả lời (1)" in staff.text
    from db.repos.handoff import TicketRepo

    async with app.sessions() as session:  # the staff menu's «Câu hỏi chờ trả lời (n)»
        assert await TicketRepo(session).count_open() == 1
    await staff.send(f"/tl {ticket.id} Dạ, anh gửi giúp em báo giá nhé.")
    async with app.sessions() as session:
        assert await TicketRepo(session).count_open() == 0


async def test_unsure_answer_lands_in_queue_and_can_be_sent(app):
    owner = ChatUser(app, chat_id="505")
    await owner.send("/start")
    await owner.send("máy bay trực thăng giá bao nhiêu")
    [ticket] = await _tickets(app)
    assert ticket.source == "unsure" and ticket.status == "open"
    await owner.tap("Hỏi cán bộ")
    assert "máy bay trực thăng" in owner.text
    await owner.tap("Gửi câu này")
    await owner.tap("Không cần")
    assert f"Đã gửi câu hỏi #{ticket.id}" in owner.text
    [ticket] = await _tickets(app)
    assert ticket.source == "contact"


async def test_questions_to_staff_are_erased_and_pruned(app):
    from datetime import timedelta

    from handlers.privacy.retention import prune

    owner = ChatUser(app, chat_id="506")
    await owner.send("/start")
    await owner.send("gặp cán bộ")
    await owner.send("Xin hỏi về hỗ trợ máy móc cho cơ sở dệt?")
    await owner.tap("Không cần")
    other = ChatUser(app, chat_id="507")
    await other.send("gặp cán bộ")
    await other.send("Cơ sở tôi ở xã nào thì được hỗ trợ?")
    await other.tap("Không cần")
    assert len(await _tickets(app)) == 2
    # /dulieu shows them among what is kept about the person...
    await owner.send("/dulieu")
    assert "Câu hỏi gửi cán bộ: 1" in owner.text and "máy móc" in owner.text
    # ... and /xoadulieu erases the chat's questions to staff too.
    await owner.send("/xoadulieu")
    await owner.send(payload="privacy:erase_ok")
    assert [t.chat_id for t in await _tickets(app)] == ["507"]
    # Retention: a question not touched for longer than the setting is deleted.
    later = app.services.now() + timedelta(days=app.settings.retention_question_days + 1)
    counts = await prune(app.sessions, later, app.settings)
    assert counts["questions"] >= 1 and await _tickets(app) == []
