"""«Hồ sơ» in real Chromium, with the bot running as ``kcbot run`` runs it (Telegram
transport on the fake Bot API, inbox and outbox workers): staff open a draft, move it with
a note, and the owner gets the notice in their Telegram chat. Screenshots in
tests/screenshots/<test>/. SQLite and PostgreSQL."""

from __future__ import annotations

import re
import shutil
from collections.abc import AsyncIterator

import pytest

from bot.settings import Settings
from bot.transports.http import WebServer
from bot.web import mount_admin
from tests.auxil.browser import SCREENSHOTS, Browser, chromium_or_skip
from tests.auxil.fake_telegram import FakeTelegram
from tests.auxil.telegram import RunningBot, start_bot
from tests.auxil.web import AdminSite
from tests.test_cli_drafts import confirmed_draft

OWNER_CHAT = 1001


@pytest.fixture
async def bot_with_pages(
    telegram_settings: Settings,
) -> AsyncIterator[tuple[RunningBot, AdminSite]]:
    """The running bot and the staff pages on one app, as ``kcbot run`` serves them."""
    app, transport, workers = await start_bot(telegram_settings)
    bot = RunningBot(app, transport, telegram_settings, workers)
    server = WebServer("127.0.0.1", 0)
    mount_admin(server, app, app.settings)
    await server.start()
    try:
        yield bot, AdminSite(app, server)
    finally:
        await server.stop()
        await bot.stop()


@pytest.fixture
async def staff_browser(
    bot_with_pages: tuple[RunningBot, AdminSite], request: pytest.FixtureRequest
) -> AsyncIterator[Browser]:
    executable = chromium_or_skip()
    from playwright.async_api import async_playwright

    folder = SCREENSHOTS / re.sub(r"[^A-Za-z0-9_.-]+", "_", request.node.name)
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True, exist_ok=True)
    async with async_playwright() as playwright:
        chromium = await playwright.chromium.launch(executable_path=str(executable))
        context = await chromium.new_context(viewport={"width": 390, "height": 844}, locale="vi-VN")
        try:
            yield Browser(await context.new_page(), bot_with_pages[1], folder)
        finally:
            await context.close()
            await chromium.close()


async def test_status_change_reaches_the_owner_in_telegram(
    staff_browser: Browser, fake_telegram: FakeTelegram
):
    browser = staff_browser
    draft_id = await confirmed_draft(browser.site.app, chat_id=str(OWNER_CHAT))
    before = len(fake_telegram.sent_to(OWNER_CHAT))

    await browser.login("staff")
    assert "Tổng quan" in await browser.text()
    await browser.goto("/admin/drafts", "drafts")
    await browser.page.get_by_label("Trạng thái").select_option("draft")
    await browser.submit("Lọc", "drafts-filtered")
    assert "status=draft" in browser.page.url
    async with browser.page.expect_navigation():
        await browser.page.get_by_role("link", name=f"#{draft_id}").click()
    await browser.snap("draft")
    assert "Co so may tre Minh Phat" in await browser.text()

    await browser.page.get_by_label("Trạng thái mới").select_option("submitted")
    note = "Trung tâm đã nhận hồ sơ, sẽ liên hệ trong tuần."
    await browser.page.get_by_label("Ghi chú cho chủ cơ sở").fill(note)
    await browser.submit("Chuyển trạng thái", "moved")
    body = await browser.text()
    assert f"Đã chuyển hồ sơ #{draft_id} sang «Đã nộp»; đã nhắn chủ cơ sở qua chat." in body
    assert "Đã xác nhận (chưa nộp) → Đã nộp" in body and note in body

    # The outbox sender of the running bot delivers it to the owner's chat.
    sent = await fake_telegram.wait_for_messages(OWNER_CHAT, before + 1, timeout=10)
    notice = sent[-1]
    assert notice["method"] == "sendMessage"
    assert f"Hồ sơ #{draft_id}" in notice["text"] and "Đã nộp" in notice["text"]
    assert note in notice["text"]
    assert len(list(browser.folder.glob("*.png"))) == 6  # every page reached, photographed
