"""«Câu hỏi chờ trả lời» through the real aiohttp server with a logged-in HTTP client, on
SQLite and PostgreSQL: the queue and its filters, a question's page, reply / take / close
(CSRF, audit, the flash), the questions the bot could not answer."""

from __future__ import annotations

from urllib.parse import urlsplit

from sqlalchemy import select

from db.models.handoff import Ticket
from db.repos.privacy import AuditRepo
from tests.auxil.app import ChatUser
from tests.auxil.handoff import queued_for
from tests.auxil.web import admin_site, form_token, http_login, make_login  # noqa: F401

SCRIPT = "<script>alert(1)</script>"


async def _ask(app, chat_id: str, question: str, name: str = "Trần Thị Bình") -> Ticket:
    owner = ChatUser(app, chat_id=chat_id, name=name)
    await owner.send("/start")
    await owner.send("gặp cán bộ")
    await owner.send(question)
    await owner.tap("Không cần")
    async with app.sessions() as session:
        ticket = await session.scalar(
            select(Ticket).where(Ticket.chat_id == chat_id).order_by(Ticket.id.desc())
        )
    assert ticket is not None
    return ticket


async def test_queue_reply_close_over_http(admin_site):  # noqa: F811
    app = admin_site.app
    ticket = await _ask(app, "601", f"Cơ sở {SCRIPT} có được hỗ trợ máy sấy không?", SCRIPT)
    await make_login(app, "lan")
    client = await http_login(admin_site, "lan")
    try:
        async with client.get("/admin/tickets") as response:
            html = await response.text()
        assert response.status == 200
        assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html and SCRIPT not in html
        assert f'href="/admin/tickets/{ticket.id}"' in html
        async with client.get("/admin/tickets?status=closed&source=contact") as response:
            assert "Không có câu hỏi nào" in await response.text()

        async with client.get(f"/admin/tickets/{ticket.id}") as response:
            page = await response.text()
        token = form_token(page)
        assert "Gửi trả lời" in page and f"/admin/faq/new?ticket={ticket.id}" in page
        nonce = page.split('name="nonce" value="')[1].split('"')[0]

        # Without the form's token: refused, nothing sent.
        async with client.post(
            f"/admin/tickets/{ticket.id}/reply", data={"text": "Dạ"}, allow_redirects=False
        ) as response:
            assert response.status == 403
        # Empty: the page again, the message next to the field.
        async with client.post(
            f"/admin/tickets/{ticket.id}/reply",
            data={"text": "  ", "csrf_token": token, "nonce": nonce},
        ) as response:
            assert response.status == 400
            assert 'id="reply-error" role="alert">Bạn chưa gõ nội dung trả lời.' in (
                await response.text()
            )
        answer = "Dạ, máy sấy được hỗ trợ tới 50% (tối đa 300 triệu đồng)."
        for _ in range(2):  # the same form sent twice answers once
            async with client.post(
                f"/admin/tickets/{ticket.id}/reply",
                data={"text": answer, "csrf_token": token, "nonce": nonce},
                allow_redirects=False,
            ) as response:
                assert response.status == 303
                location = response.headers["Location"]
        assert urlsplit(location).path == f"/admin/tickets/{ticket.id}"
        async with client.get(location) as response:
            shown = await response.text()
        assert "Câu trả lời này đã được gửi" in shown  # the second post's flash
        assert answer in shown  # in the history, as sent to the asker
        sent = [m.text for m in await queued_for(app, "601") if m.text.startswith("💬")]
        assert sent == [f"💬 Cán bộ lan trả lời (câu hỏi #{ticket.id}):\n{answer}"]

        async with client.post(
            f"/admin/tickets/{ticket.id}/close", data={"csrf_token": token}
        ) as response:
            closed = await response.text()
        assert f"Đã đóng câu hỏi #{ticket.id} và báo người hỏi." in closed
        assert "Gửi trả lời" not in closed
        texts = [m.text for m in await queued_for(app, "601")]
        assert any(t.startswith(f"✅ Cán bộ đã đóng câu hỏi #{ticket.id}") for t in texts)
        async with app.sessions() as session:
            audit = [(a.actor, a.action) for a in await AuditRepo(session).list()]
        assert [a for a in audit if a[1].startswith("ticket.")] == [
            ("staff:web:lan", "ticket.take"),
            ("staff:web:lan", "ticket.reply"),
            ("staff:web:lan", "ticket.close"),
        ]
        async with client.get("/admin/tickets/999") as response:
            assert response.status == 404 and "Không có câu hỏi #999." in await response.text()
    finally:
        await client.close()


async def test_taken_by_a_colleague_and_pages(admin_site):  # noqa: F811
    app = admin_site.app
    for i in range(33):
        await _ask(app, f"7{i:02d}", f"Câu hỏi thứ {i} về hỗ trợ đào tạo nghề?")
    await make_login(app, "lan")
    await make_login(app, "hung")
    lan = await http_login(admin_site, "lan")
    hung = await http_login(admin_site, "hung")
    try:
        async with lan.get("/admin/tickets/1") as response:
            token = form_token(await response.text())
        async with lan.post("/admin/tickets/1/take", data={"csrf_token": token}) as response:
            assert "Bạn đã nhận câu hỏi #1." in await response.text()
        async with hung.get("/admin/tickets/1") as response:
            page = await response.text()
        assert "Câu hỏi #1 đã có cán bộ lan nhận." in page and "Gửi trả lời" not in page
        async with hung.post(
            "/admin/tickets/1/reply", data={"csrf_token": form_token(page), "text": "Dạ"}
        ) as response:
            assert response.status == 400
            assert "Câu hỏi #1 đã có cán bộ lan nhận." in await response.text()

        async with lan.get("/admin/tickets") as response:
            first = await response.text()
        assert "Trang 1/2 · 33 dòng" in first and "?page=2" in first
        async with lan.get("/admin/tickets?page=2") as response:
            second = await response.text()
        assert "Câu hỏi thứ 0 về" in second and "Câu hỏi thứ 32" not in second
    finally:
        await lan.close()
        await hung.close()


async def test_unanswered_questions_grouped_and_marked_handled(admin_site):  # noqa: F811
    app = admin_site.app
    for chat, text in (("801", "giá phân bón hôm nay"), ("802", "Giá phân bón hôm nay?")):
        asker = ChatUser(app, chat_id=chat)
        await asker.send("/start")
        await asker.send(text)
    await make_login(app, "lan")
    client = await http_login(admin_site, "lan")
    try:
        async with client.get("/admin/tickets/unanswered") as response:
            html = await response.text()
        assert "Giá phân bón hôm nay?" in html and "2 lượt hỏi" in html
        question_id = html.split("/admin/faq/new?question=")[1].split('"')[0]
        # «Thêm vào hỏi đáp»: the editor starts from the question.
        async with client.get(f"/admin/faq/new?question={question_id}") as response:
            editor = await response.text()
        assert ">Giá phân bón hôm nay?</textarea>" in editor
        async with client.post(
            f"/admin/tickets/unanswered/{question_id}/resolve",
            data={"csrf_token": form_token(html)},
        ) as response:
            after = await response.text()
        assert "Đã đánh dấu đã xử lý (2 lượt hỏi)." in after
        assert "Không còn câu hỏi nào bot chưa trả lời được." in after
    finally:
        await client.close()
