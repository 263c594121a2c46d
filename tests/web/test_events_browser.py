"""In real Chromium: a staff member adds an event (a wrong date is shown next to its field),
cancels it, and imports a spreadsheet whose bad rows are listed by number. On SQLite and
PostgreSQL; screenshots in tests/screenshots/<test>/."""

from __future__ import annotations

from datetime import datetime, timedelta

from playwright.async_api import expect

from knowledge.formats import LOCAL_TZ
from tests.auxil.browser import Browser, browser  # noqa: F401
from tests.auxil.web import admin_site  # noqa: F401


def day(offset: int) -> str:
    return (datetime.now(LOCAL_TZ) + timedelta(days=offset)).strftime("%d/%m/%Y")


async def test_add_cancel_and_import_events(browser: Browser) -> None:  # noqa: F811
    await browser.login("staff", "canbo")
    page = browser.page
    await browser.goto("/admin/events", "empty-list")
    assert "Không có sự kiện nào theo bộ lọc này." in await browser.text()

    await browser.goto("/admin/events/new", "new")
    await page.get_by_label("Tên sự kiện").fill("Hội chợ hàng CNNT khu vực miền Trung")
    await page.get_by_label("Loại").select_option("trade_fair")
    await page.get_by_label("Bắt đầu").fill("31/02/2026")
    await page.get_by_label("Địa điểm").fill("Đà Nẵng")
    await browser.submit("Thêm sự kiện", "date-refused")
    await expect(page.locator("#e-start")).to_have_text(
        "Ngày bắt đầu «31/02/2026» không đúng (dùng YYYY-MM-DD, YYYY-MM-DD HH:MM, "
        "DD/MM/YYYY hoặc DD/MM/YYYY HH:MM)"
    )
    assert await page.get_by_label("Địa điểm").input_value() == "Đà Nẵng"  # kept
    await page.get_by_label("Bắt đầu").fill(day(12))
    await browser.submit("Thêm sự kiện", "added")
    assert "Đã thêm sự kiện #1: Hội chợ hàng CNNT khu vực miền Trung." in await browser.text()
    row = page.locator("tbody tr").first
    assert "Đà Nẵng" in await row.inner_text() and "Sắp tới" in await row.inner_text()

    await page.get_by_role("link", name="Hội chợ hàng CNNT khu vực miền Trung").click()
    await browser.snap("edit")
    await browser.submit("Hủy sự kiện này", "cancelled")
    assert "Đã hủy sự kiện #1: Hội chợ hàng CNNT khu vực miền Trung." in await browser.text()
    await browser.goto("/admin/events?status=cancelled", "cancelled-list")
    assert "Đã hủy" in await page.locator("tbody").inner_text()

    csv = (
        "tiêu đề;loại;bắt đầu;tỉnh\n"
        f"Tập huấn thương mại điện tử;tập huấn;{day(20)} 08:00;Quảng Ngãi\n"
        f"Bình chọn sản phẩm tiêu biểu;bình chọn;{day(30)};\n"
        f"Sự kiện lạ;liên hoan;{day(5)};\n"
    )
    await browser.goto("/admin/events/import", "import")
    await page.get_by_label("Tệp CSV (UTF-8) hoặc XLSX, tối đa 1 MB").set_input_files(
        files=[{"name": "su-kien.csv", "mimeType": "text/csv", "buffer": csv.encode()}]
    )
    await browser.submit("Nhập tệp", "imported")
    body = await browser.text()
    assert "Tệp su-kien.csv: Thêm mới 2, cập nhật 0, không đổi 0, lỗi 1 dòng." in body
    assert await page.locator("tbody tr").all_inner_texts() == [
        "4\tLoại «liên hoan» không rõ (dùng: hạn nộp, hội chợ, bình chọn, tập huấn, hội nghị, khác)"
    ]
    await browser.goto("/admin/events", "after-import")
    titles = await page.locator("tbody tr").all_inner_texts()
    assert len(titles) == 2 and "Tập huấn thương mại điện tử" in titles[0]
