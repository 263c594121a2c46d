"""In real Chromium: a staff member composes an announcement, watches the recipient count
follow the filters, sends it, and reads its delivery report while the bot's own outbox
sender delivers it through the fake Telegram Bot API (one recipient has blocked the bot).
On SQLite and PostgreSQL; screenshots in tests/screenshots/<test>/."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from urllib.parse import urlsplit

import pytest
from playwright.async_api import expect

from bot.settings import Settings
from bot.transports.http import WebServer
from bot.web import mount_admin
from tests.auxil.browser import Browser, browser  # noqa: F401
from tests.auxil.fake_telegram import FakeTelegram
from tests.auxil.staff import owner_in
from tests.auxil.telegram import (  # noqa: F401
    RunningBot,
    fake_telegram,
    running_bot,
    telegram_settings_for,
)
from tests.auxil.web import PASSWORD, AdminSite, make_login

TEXT = "Hội chợ hàng CNNT tiêu biểu mở đăng ký đến 20/12. Cơ sở nào muốn tham gia?"


@pytest.fixture
async def telegram_settings(db_url: str, fake_telegram: FakeTelegram) -> Settings:  # noqa: F811
    # Any hour of the day is inside the send window, and progress is checked every second.
    return telegram_settings_for(
        db_url, fake_telegram, send_window="00:00-23:59", reminder_check_seconds=1
    )


@pytest.fixture
async def admin_site(running_bot: RunningBot) -> AsyncIterator[AdminSite]:  # noqa: F811
    """The staff pages on the same app as the running bot (transport and workers)."""
    server = WebServer("127.0.0.1", 0)
    mount_admin(server, running_bot.app, running_bot.app.settings)
    await server.start()
    try:
        yield AdminSite(running_bot.app, server)
    finally:
        await server.stop()


async def test_compose_send_and_read_the_delivery_report(
    browser: Browser,  # noqa: F811
    fake_telegram: FakeTelegram,  # noqa: F811
) -> None:
    app = browser.site.app
    for chat in ("3001", "3002", "3003"):
        await owner_in(app, chat, province="Quảng Ngãi")
    await owner_in(app, "3101", province="Hà Nội")
    fake_telegram.block(3003)
    # The staff member's login is linked to their Telegram chat: progress arrives there too.
    await make_login(app, "canbo", "staff", chat="telegram:9001")
    await browser.goto("/admin/login", "login")
    await browser.fill_login("canbo", PASSWORD)

    page = browser.page
    await browser.goto("/admin/announcements/new", "compose")
    count = page.locator("#recipient-count")
    assert await count.inner_text() == "👥 5 người nhận (telegram: 5)"
    await page.get_by_label("Nội dung (tối đa 3500 ký tự)").fill(TEXT)
    await page.get_by_label("Nút kèm theo").select_option("intake")
    await page.get_by_label("Tỉnh (giữ Ctrl hoặc chạm để chọn nhiều)").select_option("Quảng Ngãi")
    # htmx asks the server again as the filters change
    await expect(count).to_have_text("👥 3 người nhận (telegram: 3)")
    bubble = page.locator(".bubble")
    assert await bubble.inner_text() == TEXT
    assert await page.locator(".chat-button").all_inner_texts() == ["📝 Tạo hồ sơ"]
    await browser.snap("counted-and-previewed")

    await browser.submit("📣 Gửi thông báo", "sent")
    assert urlsplit(page.url).path == "/admin/announcements/1"
    body = await browser.text()
    assert re.search(r"Đã xếp hàng thông báo #1 cho 3 người nhận, gửi từ \d\d/\d\d/\d{4}", body)

    # The report refreshes itself while the bot sends.
    await expect(page.locator("#status")).to_have_text("đã gửi xong", timeout=20_000)
    await browser.snap("report")
    assert await page.get_by_role("button", name="✖️ Dừng gửi phần chưa gửi").count() == 0
    cells = {
        key: await page.locator(f'td[data-key="{key}"]').inner_text()
        for key in ("total", "sent", "unreachable", "failed", "pending")
    }
    assert cells == {"total": "3", "sent": "2", "unreachable": "1", "failed": "0", "pending": "0"}
    for chat in (3001, 3002):
        [message] = fake_telegram.sent_to(chat)
        assert message["text"] == TEXT
    assert fake_telegram.sent_to(3101) == [] and fake_telegram.sent_to(3003) == []

    # The list of past announcements shows it with its counts.
    await browser.goto("/admin/announcements", "list")
    row = page.locator("tbody tr").first
    assert "đã gửi xong" in await row.inner_text()
    assert "Đã gửi 2/3 · không liên lạc được 1" in await row.inner_text()

    # The staff chat linked to the login gets the final report from the bot.
    def final_report(fake: FakeTelegram) -> list[str]:
        texts = [str(m.get("text") or "") for m in fake.sent_to(9001)]
        return [t for t in texts if t.startswith("📣 Thông báo #1 (đã gửi xong)")]

    await fake_telegram.wait_for(final_report, timeout=10)
    [report] = final_report(fake_telegram)
    assert "• Đã gửi: 2" in report and "• Chặn bot/không liên lạc được: 1" in report
