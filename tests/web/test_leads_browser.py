"""A lead's status changed in real Chromium by a staff login, on a phone-sized screen;
screenshots in tests/screenshots/. SQLite and PostgreSQL."""

from __future__ import annotations

from sqlalchemy import select

from db.models.handoff import Lead
from tests.auxil.browser import Browser, browser  # noqa: F401
from tests.auxil.leads import add_lead
from tests.auxil.web import admin_site  # noqa: F401


async def test_staff_change_a_leads_status_with_a_note(browser: Browser):  # noqa: F811
    async with browser.site.app.sessions() as session, session.begin():
        await add_lead(session, "Cơ sở mộc Minh Phát", "0912345678")
        await add_lead(session, "Mộc Minh Phát", "0988000111")
    await browser.login("staff", "canbo")
    await browser.goto("/admin/leads", "leads")
    body = await browser.text()
    assert "2 cơ sở." in body and "⚠ Có thể trùng #1" in body

    async with browser.page.expect_navigation():
        await browser.page.get_by_role("link", name="Cơ sở mộc Minh Phát").click()
    await browser.snap("lead-1")
    assert "Cơ sở #1: Cơ sở mộc Minh Phát" in await browser.text()

    await browser.page.get_by_label("Trạng thái mới").select_option(label="đã liên hệ")
    await browser.page.get_by_label("Ghi chú").fill("Đã gọi, chủ cơ sở hẹn gặp thứ Hai")
    await browser.submit("Lưu", "status-changed")
    body = await browser.text()
    assert "Đã chuyển cơ sở #1 sang «đã liên hệ»." in body
    assert "mới → đã liên hệ · staff:web:canbo" in body
    assert "Đã gọi, chủ cơ sở hẹn gặp thứ Hai" in body

    await browser.goto("/admin/leads?status=contacted", "filtered")
    assert "1 cơ sở." in await browser.text()
    async with browser.site.app.sessions() as session:
        lead = await session.scalar(select(Lead).where(Lead.id == 1))
    assert lead is not None and lead.status == "contacted"
