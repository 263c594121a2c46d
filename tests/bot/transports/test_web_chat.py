"""The web chat through the real server (``kcbot web`` in this process) and an HTTP client
that behaves like the page: SQLite file and PostgreSQL."""

from __future__ import annotations

import asyncio
import json
import secrets

import aiohttp
from sqlalchemy import func, select

from bot.transports.web import EMPTY, MAX_INPUT, TOO_FAST, TOO_LONG
from db.models.core import InboxEvent
from db.models.events import OutboxMessage
from tests.auxil.intake import DOCX, docx_text, fill_until_summary
from tests.auxil.webchat import Visitor, web_server

MANY = {"web_chat_per_minute": 1000}  # a long dialogue from one test address


async def count_rows(server, model) -> int:
    from db.session import create_engine

    engine = create_engine(server.settings.database_url)
    try:
        async with engine.connect() as conn:
            return int(await conn.scalar(select(func.count()).select_from(model)) or 0)
    finally:
        await engine.dispose()


async def test_start_buttons_and_typed_answers(db_url):
    async with web_server(db_url, **MANY) as server, Visitor(server.base) as visitor:
        async with visitor.http.get(server.base + "/chat") as response:
            html = await response.text()
            cookie = response.headers["Set-Cookie"]
            assert "HttpOnly" in cookie and "SameSite=Lax" in cookie and "Path=/chat" in cookie
            assert "script-src 'self'" in response.headers["Content-Security-Policy"]
            assert response.headers["X-Frame-Options"] == "DENY"
        assert "Trợ lý Khuyến công" in html and "/chat/static/chat.js" in html
        assert 'maxlength="2000"' in html and "width=device-width" in html  # a phone
        await visitor.open()
        assert visitor.chat_cookie and visitor.shown == []  # a new chat, nothing yet
        async with visitor.http.get(server.base + "/chat/static/chat.js") as response:
            script = await response.text()
            assert response.headers["Content-Type"].startswith("text/javascript")
        assert "innerHTML" not in script and "textContent" in script
        await visitor.send("/start")
        assert "Trợ lý Khuyến công" in visitor.text
        assert any("Tạo hồ sơ" in label for label in visitor.labels)
        await visitor.tap("Hỏi đáp")
        assert visitor.last, "tapping a button gets an answer"
        # A question typed in everyday spelling is answered from the knowledge base.
        await visitor.send("ho tro may moc thiet bi bao nhieu")
        assert "hỗ trợ" in visitor.text.lower()
        # The tapped button shows as the visitor's own message, by its label.
        mine = [m["text"] for m in visitor.shown if m["who"] == "user"]
        assert mine[0] == "/start" and "Hỏi đáp" in mine[1]


async def test_intake_to_a_downloadable_docx_and_a_reload_keeps_the_chat(db_url):
    async with web_server(db_url, **MANY) as server, Visitor(server.base) as visitor:
        await visitor.open()
        await fill_until_summary(visitor)  # taps and typed answers, "12" workers included
        await visitor.tap("Xác nhận")
        assert "Đã lưu hồ sơ #" in visitor.text
        [link] = visitor.files
        assert link["name"].endswith(".docx") and link["url"].startswith("/chat/files/")
        async with visitor.http.get(server.base + link["url"]) as response:
            assert response.status == 200
            assert response.headers["Content-Type"] == DOCX
            assert "attachment" in response.headers["Content-Disposition"]
            content = await response.read()
        assert "ĐƠN ĐỀ NGHỊ HỖ TRỢ KINH PHÍ KHUYẾN CÔNG" in docx_text(content)
        # Another browser (another cookie) cannot fetch it, nor guess it.
        async with Visitor(server.base) as stranger:
            await stranger.open()
            async with stranger.http.get(server.base + link["url"]) as response:
                assert response.status == 404
                assert "Không tìm thấy tệp" in await response.text()

        # A reload shows the whole chat again, in order, nothing doubled.
        before = [(m["who"], m["text"]) for m in visitor.shown]
        await visitor.open()
        after = [(m["who"], m["text"]) for m in visitor.shown]
        assert after == before
        assert len({m["key"] for m in visitor.shown}) == len(visitor.shown)
        assert visitor.files == [link]


async def test_a_retried_post_is_stored_once_and_answered_once(db_url):
    async with web_server(db_url) as server, Visitor(server.base) as visitor:
        await visitor.open()
        body = {"id": secrets.token_urlsafe(12), "text": "/start"}
        answers = await asyncio.gather(*(visitor.post_json(body) for _ in range(3)))
        assert [status for status, _ in answers] == [202, 202, 202]
        await visitor.replies()
        await asyncio.sleep(1.0)  # time for a second answer, if there were one
        await visitor.fetch()
        assert [m["who"] for m in visitor.shown] == ["user", "bot"]
        assert await count_rows(server, InboxEvent) == 1
        assert await count_rows(server, OutboxMessage) == 1


async def test_twenty_messages_a_minute_then_a_short_vietnamese_answer(db_url):
    async with web_server(db_url) as server, Visitor(server.base) as visitor:
        await visitor.open()
        statuses = []
        for n in range(21):
            status, answer = await visitor.post_json({"id": f"msg-{n:04d}", "text": f"câu {n}"})
            statuses.append(status)
        assert statuses == [202] * 20 + [429]
        assert answer == {"error": TOO_FAST}
        # The one refused is not stored: only the twenty are, and answered.
        assert await count_rows(server, InboxEvent) == 20
        await visitor.until_answered(20)


async def test_bad_input_gets_a_clear_answer_never_a_traceback(db_url):
    async with web_server(db_url, **MANY) as server, Visitor(server.base) as visitor:
        await visitor.open()
        ok_id = "abcdefgh"
        status, answer = await visitor.post_json({"id": ok_id, "text": "   \n "})
        assert (status, answer) == (400, {"error": EMPTY})
        status, answer = await visitor.post_json({"id": ok_id, "text": "x" * 10_000})
        assert (status, answer) == (413, {"error": TOO_LONG})
        assert f"{MAX_INPUT:,}".replace(",", ".") in TOO_LONG
        for bad in (b"{not json", b"[1, 2]", b'{"text": "no id"}', b'{"id": "a/b", "text": "x"}'):
            status, text = await visitor.post_raw(bad)
            assert status == 400 and "Traceback" not in text
            assert "không hợp lệ" in json.loads(text)["error"]
        status, text = await visitor.post_raw(b'{"id": "abcdefgh", "text": "' + b"y" * 40_000)
        assert status == 413 and "quá lớn" in json.loads(text)["error"]
        # What another site's form could send on a visitor's behalf: not JSON, refused.
        form = b'{"id": "abcdefgh", "text": "hi"}'
        status, text = await visitor.post_raw(form, content_type="text/plain")
        assert status == 415 and "Traceback" not in text
        assert await count_rows(server, InboxEvent) == 0

        # Emoji and control characters: answered; what is shown back has no control chars.
        await visitor.send("xin chào 👋\x00\x07 có hỗ trợ\tmáy móc không? 🙏")
        assert visitor.last
        mine = [m["text"] for m in visitor.shown if m["who"] == "user"]
        assert mine == ["xin chào 👋   có hỗ trợ\tmáy móc không? 🙏"]
        # The bot's text comes back as data: a page that uses textContent shows it as is.
        await visitor.send("<script>alert(1)</script>")
        assert "<script>alert(1)</script>" in [m["text"] for m in visitor.shown]


async def test_a_forged_cookie_gets_a_new_chat(db_url):
    async with web_server(db_url, **MANY) as server, Visitor(server.base) as visitor:
        await visitor.open()
        await visitor.send("/start")
        real = visitor.chat_cookie
        for forged in ("../../etc", "x" * 31, "' OR 1=1 --", real[:-1] + "!"):
            async with aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True)) as http:
                http.cookie_jar.update_cookies({"kc_chat": forged}, aiohttp.client.URL(server.base))
                async with http.get(server.base + "/chat/messages") as response:
                    assert response.status == 200
                    data = await response.json()
                    assert data["messages"] == []
                    fresh = response.cookies["kc_chat"].value
                    assert fresh != forged and fresh != real and len(fresh) == 32
        await visitor.open()  # the real one still has its chat
        assert [m["who"] for m in visitor.shown] == ["user", "bot"]


async def test_a_restart_mid_dialogue_continues_where_it_stopped(db_url):
    async with web_server(db_url, **MANY) as server, Visitor(server.base) as visitor:
        await visitor.open()
        await visitor.send("/start")
        await visitor.tap("Tạo hồ sơ")
        if any("Đồng ý" in label for label in visitor.labels):
            await visitor.tap("Đồng ý")
        await visitor.tap("Máy móc")
        asked = visitor.text
        shown = [(m["who"], m["text"]) for m in visitor.shown]

        await server.stop()  # stopped mid-dialogue ...
        await server.start()  # ... and a new server on the same database
        await visitor.open()
        assert [(m["who"], m["text"]) for m in visitor.shown] == shown
        await visitor.tap("Hộ kinh doanh")  # the question asked before the restart
        assert visitor.text != asked and "Hộ kinh doanh" not in visitor.labels
        assert len({m["key"] for m in visitor.shown}) == len(visitor.shown) == len(shown) + 2


async def test_a_message_stored_before_a_stop_is_answered_after_the_restart(db_url):
    async with web_server(db_url, **MANY) as server, Visitor(server.base) as visitor:
        await visitor.open()
        await visitor.send("/start")
        # Stored in the inbox (202), then the server stops before anyone handles it.
        from bot.types import Incoming
        from db.session import create_engine

        await server.stop()
        engine = create_engine(server.settings.database_url)
        try:
            from bot.inbox import Inbox, event_of

            incoming = Incoming(
                channel="web", chat_id=visitor.chat_cookie, user_id="", text="/start"
            )
            assert await Inbox(engine).accept([event_of(incoming, "left-behind-1")]) == 1
        finally:
            await engine.dispose()
        await server.start()
        await visitor.open()
        for _ in range(100):
            if [m["who"] for m in visitor.shown].count("bot") == 2:
                break
            await visitor.fetch(wait=True)
        assert [m["who"] for m in visitor.shown] == ["user", "bot", "user", "bot"]


async def test_two_servers_on_one_database_share_the_chats(db_url):
    """Behind one address, a visitor's fetch may reach another process than its POST."""
    async with (
        web_server(db_url, **MANY) as first,
        web_server(db_url, **MANY) as second,
        Visitor(first.base) as visitor,
    ):
        await visitor.open()
        await visitor.send("/start")
        shown = [(m["who"], m["text"]) for m in visitor.shown]
        visitor.base = second.base  # the same browser (cookie), the other process
        await visitor.open()
        assert [(m["who"], m["text"]) for m in visitor.shown] == shown
        await visitor.tap("Hỏi đáp")  # posted to the second, answered by either
        assert visitor.last
        assert len({m["key"] for m in visitor.shown}) == len(visitor.shown)


async def first_cookie(base: str, **headers: str) -> str:
    async with aiohttp.ClientSession() as http, http.get(base + "/chat", headers=headers) as r:
        return r.headers["Set-Cookie"]


async def test_behind_a_trusted_proxy_each_visitor_has_their_own_limit(db_url):
    async with web_server(db_url, web_trust_proxy=True) as server, Visitor(server.base) as visitor:
        await visitor.open()
        statuses = []
        for n in range(25):  # five visitors behind one proxy, five messages each
            async with visitor.http.post(
                server.base + "/chat/messages",
                json={"id": f"msg-{n:04d}", "text": "xin chào"},
                headers={"X-Forwarded-For": f"203.0.113.9, 198.51.100.{n % 5}"},
            ) as response:
                statuses.append(response.status)
        assert statuses == [202] * 25
        await visitor.until_answered(25)
        assert "Secure" in await first_cookie(server.base, **{"X-Forwarded-Proto": "https"})
    async with web_server(db_url) as server:
        # Not trusted: a forged header changes nothing, the cookie is not marked Secure.
        assert "Secure" not in await first_cookie(server.base, **{"X-Forwarded-Proto": "https"})


async def test_erasing_ones_data_empties_what_one_typed_and_a_redelivery_stays_answered(db_url):
    async with web_server(db_url, **MANY) as server, Visitor(server.base) as visitor:
        await visitor.open()
        await visitor.send("/start")
        typed = {"id": secrets.token_urlsafe(12), "text": "toi la Nguyen Van An 0912345678"}
        assert (await visitor.post_json(typed))[0] == 202
        await visitor.replies()
        await visitor.open()
        assert any("0912345678" in m["text"] for m in visitor.shown)

        await visitor.send("/xoadulieu")
        assert "tin nhắn đã gửi" in visitor.text
        await visitor.tap("Xoá")
        assert "Đã xoá dữ liệu của bạn" in visitor.text and "tin nhắn" in visitor.text

        # A reload no longer shows what was typed before the erasure, nor the bot's replies.
        await visitor.open()
        assert not any("0912345678" in m["text"] for m in visitor.shown)
        from db.session import create_engine

        engine = create_engine(server.settings.database_url)
        try:
            async with engine.connect() as conn:
                rows = (await conn.execute(select(InboxEvent.incoming, InboxEvent.raw))).all()
        finally:
            await engine.dispose()
        assert not any("0912345678" in f"{incoming}{raw}" for incoming, raw in rows)
        # The emptied rows keep their ids: the same message sent again is not answered twice.
        assert (await visitor.post_json(typed))[0] == 202
        await asyncio.sleep(1.0)
        await visitor.fetch()
        assert not any("0912345678" in m["text"] for m in visitor.shown)
