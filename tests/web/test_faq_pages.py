"""«Nội dung hỏi đáp» through the real aiohttp server with a logged-in HTTP client, on
SQLite and PostgreSQL, over a copy of the shipped content: list, topic filter, search
(POST: the words stay out of addresses), edit with problems next to their field, a new
entry from a ticket, export and import of the spreadsheet. The bot answers with what was
saved."""

from __future__ import annotations

import asyncio
import io
import os
import shutil
import sys
from collections.abc import AsyncIterator
from html.parser import HTMLParser
from pathlib import Path

import aiohttp
import pytest
from openpyxl import load_workbook

from bot.app import build_app
from bot.transports.http import WebServer
from bot.web import mount_admin
from db.repos.privacy import AuditRepo
from knowledge.content import DEFAULT_DATA_DIR, load_entries
from tests.auxil.app import ChatUser, make_settings
from tests.auxil.web import AdminSite, form_token, http_login, make_login

NEW_ANSWER = "Bạn gọi {centre_phone} gặp chị Lan (phòng Tư vấn) trong giờ hành chính."


class _Form(HTMLParser):
    """The values a browser would post from the page's form (inputs, textareas, selects)."""

    def __init__(self) -> None:
        super().__init__()
        self.values: dict[str, str] = {}
        self._textarea: str | None = None
        self._select: str | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: v or "" for k, v in attrs}
        if tag == "input" and a.get("name") and a.get("type") != "search":
            self.values[a["name"]] = a.get("value", "")
        elif tag == "textarea":
            self._textarea = a["name"]
            self.values[a["name"]] = ""
        elif tag == "select":
            self._select = a["name"]
        elif tag == "option" and self._select and "selected" in a:
            self.values[self._select] = a.get("value", "")

    def handle_endtag(self, tag: str) -> None:
        if tag == "textarea":
            self._textarea = None
        elif tag == "select":
            self._select = None

    def handle_data(self, data: str) -> None:
        if self._textarea:
            self.values[self._textarea] += data


def form_values(html: str) -> dict[str, str]:
    parser = _Form()
    parser.feed(html)
    return parser.values


@pytest.fixture
def kb_dir(tmp_path: Path) -> Path:
    target = tmp_path / "kb"
    shutil.copytree(DEFAULT_DATA_DIR, target)
    return target


@pytest.fixture
async def admin_site(db_url: str, kb_dir: Path) -> AsyncIterator[AdminSite]:
    """The pages on the bot, the content in a folder of the test's own."""
    app = await build_app(make_settings(db_url, kb_path=kb_dir))
    server = WebServer("127.0.0.1", 0)
    mount_admin(server, app, app.settings)
    await server.start()
    try:
        yield AdminSite(app, server)
    finally:
        await server.stop()
        await app.close()


@pytest.fixture
async def client(admin_site: AdminSite) -> AsyncIterator[aiohttp.ClientSession]:
    await make_login(admin_site.app, "lan")
    session = await http_login(admin_site, "lan")
    yield session
    await session.close()


async def test_list_filter_and_search(client, kb_dir):
    async with client.get("/admin/faq") as response:
        html = await response.text()
    total = len(load_entries(kb_dir))
    assert response.status == 200 and f"Trang 1/{-(-total // 30)} · {total} dòng" in html
    async with client.get("/admin/faq?topic=contact") as response:
        contact = await response.text()
    assert "Số điện thoại Trung tâm Khuyến công" in contact and "Trang 1/" not in contact
    async with client.post(
        "/admin/faq/search", data={"q": "so dien thoai", "csrf_token": form_token(html)}
    ) as response:
        found = await response.text()
    assert "/admin/faq/contact-phone/edit" in found and "có «so dien thoai»" in found
    async with client.post(
        "/admin/faq/search", data={"q": "<b>qwzx</b>", "csrf_token": form_token(html)}
    ) as response:
        assert "Không có mục nào có «&lt;b&gt;qwzx&lt;/b&gt;»." in await response.text()


async def test_edit_shows_problems_next_to_fields_then_the_bot_uses_the_answer(
    admin_site, client, kb_dir
):
    asker = ChatUser(admin_site.app, chat_id="501")
    await asker.send("/start")
    await asker.send("số điện thoại trung tâm khuyến công")
    assert "chị Lan" not in asker.text

    async with client.get("/admin/faq/contact-phone/edit") as response:
        page = await response.text()
    assert "Sửa mục «Số điện thoại Trung tâm Khuyến công»" in page
    form = {**form_values(page), "answer": "x" * 950}
    assert form["topic"] == "contact" and form["questions"].startswith("Số điện thoại")
    async with client.post("/admin/faq/contact-phone/edit", data=form) as response:
        bad = await response.text()
    assert response.status == 400
    assert 'id="answer-error" role="alert">Dài quá 900 ký tự (đang có 950).' in bad
    assert 'aria-invalid="true" aria-describedby="answer-error"' in bad
    before = (kb_dir / "contact.yaml").read_text(encoding="utf-8")
    assert "x" * 950 not in before

    form["answer"] = NEW_ANSWER
    async with client.post(
        "/admin/faq/contact-phone/edit", data=form, allow_redirects=False
    ) as response:
        assert response.status == 303
    async with client.get(response.headers["Location"]) as response:
        assert "Đã lưu mục «Số điện thoại Trung tâm Khuyến công»." in await response.text()
    await asker.send("số điện thoại trung tâm khuyến công")
    assert "gặp chị Lan (phòng Tư vấn)" in asker.text and "0235 3812 345" in asker.text
    # The form opened before this save is stale now: refused, the typed text kept.
    form["answer"] = "Một nội dung khác"
    async with client.post("/admin/faq/contact-phone/edit", data=form) as response:
        stale = await response.text()
    assert "vừa được người khác sửa" in stale and "Một nội dung khác</textarea>" in stale
    async with admin_site.app.sessions() as session:
        audit = [(a.actor, a.action, a.subject) for a in await AuditRepo(session).list()]
    assert audit.count(("staff:web:lan", "faq.edit", "faq:contact-phone")) == 1


async def test_new_entry_from_a_ticket(admin_site, client):
    asker = ChatUser(admin_site.app, chat_id="601")
    await asker.send("/start")
    await asker.send("gặp cán bộ")
    await asker.send("Năm 2027 có hội chợ hàng thủ công ở Đà Nẵng không?")
    await asker.tap("Không cần")
    async with client.get("/admin/faq/new?ticket=1") as response:
        page = await response.text()
    assert ">Năm 2027 có hội chợ hàng thủ công ở Đà Nẵng không?</textarea>" in page
    form = {
        "csrf_token": form_token(page),
        "topic": "trade-fairs",
        "title": "Hội chợ thủ công Đà Nẵng 2027",
        "questions": "Năm 2027 có hội chợ hàng thủ công ở Đà Nẵng không?",
        "answer": "Có: hội chợ diễn ra tháng 5/2027. Đăng ký với {centre_name}.",
        "source": "Kế hoạch khuyến công 2027",
        "reviewed": "",
    }
    assert 'name="ticket" value="1"' in page
    form["ticket"] = "1"
    async with client.post("/admin/faq/new", data=form) as response:
        html = await response.text()
    # Back on the question, to answer the asker.
    assert response.url.path == "/admin/tickets/1" and "Gửi trả lời" in html
    assert "Đã thêm mục «Hội chợ thủ công Đà Nẵng 2027»." in html
    other = ChatUser(admin_site.app, chat_id="602")
    await other.send("/start")
    await other.send("nam 2027 co hoi cho thu cong o da nang khong")
    assert "hội chợ diễn ra tháng 5/2027" in other.text
    async with client.post("/admin/faq/new", data=form) as response:
        again = await response.text()
    assert response.status == 400 and "đã có ở mục «hoi-cho-thu-cong-da-nang-2027»" in again


async def test_export_then_import_with_a_bad_row_then_fixed(admin_site, client, kb_dir):
    async with client.get("/admin/faq/export.xlsx") as response:
        assert response.status == 200
        assert response.headers["Content-Disposition"].startswith("attachment;")
        body = await response.read()
    book = load_workbook(io.BytesIO(body))
    sheet = book.active
    assert sheet is not None and sheet.max_row == len(load_entries(kb_dir)) + 1
    for row in sheet.iter_rows(min_row=2):
        if row[0].value == "contact-phone":
            row[4].value = NEW_ANSWER
            row[6].value = "hôm qua"
    buffer = io.BytesIO()
    book.save(buffer)

    async with client.get("/admin/faq/import") as response:
        token = form_token(await response.text())

    async def upload(data: bytes, name: str = "hoi-dap.xlsx") -> tuple[int, str]:
        form = aiohttp.FormData()
        form.add_field("csrf_token", token)
        form.add_field("file", data, filename=name)
        async with client.post("/admin/faq/import", data=form) as response:
            return response.status, await response.text()

    status, html = await upload(buffer.getvalue())
    assert status == 400 and "Tệp có lỗi, chưa thay đổi gì." in html
    assert "(mục contact-phone), cột reviewed: Ngày chưa đúng; ví dụ: 2026-12-01." in html
    assert "chị Lan" not in (kb_dir / "contact.yaml").read_text(encoding="utf-8")
    status, html = await upload(b"abc", "notes.txt")
    assert status == 400 and "Bạn chọn tệp .xlsx" in html

    for row in sheet.iter_rows(min_row=2):
        if row[0].value == "contact-phone":
            row[6].value = "2026-12-01"
    buffer = io.BytesIO()
    book.save(buffer)
    status, html = await upload(buffer.getvalue())
    assert status == 200 and "thêm 0, sửa 1, xoá 0" in html
    asker = ChatUser(admin_site.app, chat_id="701")
    await asker.send("/start")
    await asker.send("số điện thoại trung tâm khuyến công")
    assert "gặp chị Lan" in asker.text


async def test_a_bot_in_another_process_answers_with_the_saved_text(
    admin_site, client, kb_dir, tmp_path
):
    """`kcbot chat` in its own process over the same folder and database: after a save on
    the page it answers with the new text at its next look at the files (≤ 3 s)."""
    env = {
        **os.environ,
        "KCBOT_DATABASE_URL": admin_site.app.settings.database_url,
        "KCBOT_KB_PATH": str(kb_dir),
        "KCBOT_CENTRE_HOURS": "Thứ Hai – Thứ Sáu, 7:30–17:00",
    }
    for name in ("TELEGRAM_BOT_TOKEN", "ZALO_BOT_TOKEN", "ZALO_OA_SECRET_KEY"):
        env.pop(name, None)
    chat = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bot.cli",
        "chat",
        "--as",
        "other-process",
        stdin=asyncio.subprocess.PIPE,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.DEVNULL,
        cwd=tmp_path,
        env=env,
    )
    assert chat.stdin is not None and chat.stdout is not None

    async def ask(question: str) -> str:
        assert chat.stdin is not None and chat.stdout is not None
        chat.stdin.write(f"{question}\n".encode())
        await chat.stdin.drain()
        text = await asyncio.wait_for(chat.stdout.readuntil(b"\n> "), 60)
        return text.decode()

    try:
        await asyncio.wait_for(chat.stdout.readuntil(b"\n> "), 60)  # the welcome
        assert "7:30–17:00" in await ask("giờ làm việc của trung tâm khuyến công")

        async with client.get("/admin/faq/contact-hours/edit") as response:
            form = form_values(await response.text())
        form["answer"] = "Trung tâm mở cửa {centre_hours}; ngoài giờ cán bộ trực Zalo."
        async with client.post("/admin/faq/contact-hours/edit", data=form) as response:
            assert "Đã lưu mục «Giờ làm việc»." in await response.text()

        deadline = asyncio.get_running_loop().time() + 10
        while True:
            answer = await ask("giờ làm việc của trung tâm khuyến công")
            if "trực Zalo" in answer or asyncio.get_running_loop().time() > deadline:
                break
            await asyncio.sleep(0.5)
        assert (
            "Trung tâm mở cửa Thứ Hai – Thứ Sáu, 7:30–17:00; ngoài giờ cán bộ trực Zalo." in answer
        )
    finally:
        chat.stdin.close()
        await asyncio.wait_for(chat.wait(), 30)
