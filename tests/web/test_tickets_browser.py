"""In real Chromium, on the bot that serves Telegram (python-telegram-bot against the fake
Bot API): a staff member answers a question and the asker gets it in their chat; edits an
FAQ answer and the bot answers with it. Screenshots in tests/screenshots/<test>/."""

from __future__ import annotations

import shutil
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from bot.settings import Settings
from bot.transports.http import WebServer
from bot.web import mount_admin
from knowledge.content import DEFAULT_DATA_DIR
from tests.auxil.browser import Browser, browser  # noqa: F401
from tests.auxil.fake_telegram import FakeTelegram
from tests.auxil.telegram import RunningBot, telegram_settings_for
from tests.auxil.web import AdminSite

OWNER = 5101


@pytest.fixture
async def telegram_settings(db_url: str, fake_telegram: FakeTelegram, tmp_path: Path) -> Settings:
    kb = tmp_path / "kb"
    shutil.copytree(DEFAULT_DATA_DIR, kb)
    return telegram_settings_for(db_url, fake_telegram, kb_path=kb)


@pytest.fixture
async def admin_site(running_bot: RunningBot) -> AsyncIterator[AdminSite]:
    """The staff pages on the same app as the running bot (as `kcbot run` serves them)."""
    server = WebServer("127.0.0.1", 0)
    mount_admin(server, running_bot.app, running_bot.settings)
    await server.start()
    try:
        yield AdminSite(running_bot.app, server)
    finally:
        await server.stop()


def _texts(fake: FakeTelegram, chat: int) -> str:
    return "\n".join(m.get("text") or "" for m in fake.sent_to(chat))


async def _until(fake: FakeTelegram, chat: int, expect: str) -> str:
    await fake.wait_for(lambda f: expect in _texts(f, chat), timeout=15)
    return _texts(fake, chat)


async def test_reply_from_the_page_reaches_the_asker_on_telegram(
    browser: Browser,  # noqa: F811
    fake_telegram: FakeTelegram,
):
    fake = fake_telegram
    fake.push_message(OWNER, "/start", first_name="Bình", last_name="Trần")
    await _until(fake, OWNER, "Trợ lý Khuyến công")
    fake.push_message(OWNER, "cho em gặp cán bộ")
    await _until(fake, OWNER, "gõ câu hỏi")
    fake.push_message(OWNER, "Cơ sở em làm nón lá có được hỗ trợ mua máy không ạ?")
    await _until(fake, OWNER, "để lại số điện thoại")
    fake.push_callback(OWNER, "tickets:nophone")
    await _until(fake, OWNER, "Đã gửi câu hỏi #1")

    await browser.login("staff", "lan")
    await browser.goto("/admin/tickets", "queue")
    page = browser.page
    assert "nón lá" in await browser.text()
    async with page.expect_navigation():
        await page.get_by_role("link", name="#1").click()
    await browser.snap("question")
    await page.get_by_label("Câu trả lời").fill(
        "Dạ có, nón lá thuộc thủ công mỹ nghệ: cơ sở được hỗ trợ mua máy."
    )
    await browser.submit("Gửi trả lời", "answered")
    body = await browser.text()
    assert "Đã gửi câu trả lời cho câu hỏi #1 tới người hỏi." in body

    text = await _until(fake, OWNER, "nón lá thuộc thủ công mỹ nghệ")
    assert "💬 Cán bộ lan trả lời (câu hỏi #1):" in text
    assert text.count("nón lá thuộc thủ công mỹ nghệ") == 1
    await browser.goto("/admin/tickets/1", "history")
    assert "đã gửi" in await browser.text()  # the delivery, as the outbox recorded it

    await browser.submit("✅ Đóng câu hỏi", "closed")
    assert "Đã đóng câu hỏi #1 và báo người hỏi." in await browser.text()
    await _until(fake, OWNER, "Cán bộ đã đóng câu hỏi #1")
    assert fake.rejected == []


async def test_edit_an_faq_answer_and_the_bot_uses_it(
    browser: Browser,  # noqa: F811
    fake_telegram: FakeTelegram,
):
    fake = fake_telegram
    fake.push_message(OWNER, "/start", first_name="Bình", last_name="Trần")
    await _until(fake, OWNER, "Trợ lý Khuyến công")
    fake.push_message(OWNER, "giờ làm việc của trung tâm khuyến công")
    before = await _until(fake, OWNER, "7:30")
    assert "trực Zalo" not in before
    fake.push_message(OWNER + 1, "/start", first_name="Cường")
    await _until(fake, OWNER + 1, "Trợ lý Khuyến công")
    answered = len(fake.sent_to(OWNER + 1))
    fake.push_message(OWNER + 1, "giá phân bón hôm nay bao nhiêu")
    await fake.wait_for(lambda f: len(f.sent_to(OWNER + 1)) > answered, timeout=15)

    await browser.login("staff", "lan")
    await browser.goto("/admin/tickets/unanswered", "unanswered")
    assert "giá phân bón hôm nay bao nhiêu" in await browser.text()
    await browser.goto("/admin/faq", "faq-list")
    page = browser.page
    await page.get_by_label("Tìm trong câu hỏi và câu trả lời").fill("gio lam viec")
    await browser.submit("Tìm", "search")
    async with page.expect_navigation():
        await page.get_by_role("link", name="Giờ làm việc", exact=True).click()
    await browser.snap("editor")

    answer = page.get_by_label("Câu trả lời")
    await answer.fill("Trung tâm làm việc {centre_hours}; ngoài giờ cán bộ trực Zalo {x}.")
    await browser.submit("Lưu thay đổi", "problem")
    assert "Không có ô điền {x}" in await page.locator("#answer-error").inner_text()

    await answer.fill("Trung tâm làm việc {centre_hours}; ngoài giờ cán bộ trực Zalo.")
    await browser.submit("Lưu thay đổi", "saved")
    assert "Đã lưu mục «Giờ làm việc»." in await browser.text()

    fake.push_message(OWNER, "giờ làm việc của trung tâm khuyến công")
    text = await _until(fake, OWNER, "ngoài giờ cán bộ trực Zalo")
    assert "Trung tâm làm việc Thứ Hai – Thứ Sáu, 7:30–11:30 và 13:30–17:00" in text
