"""The staff pages in real Chromium: login, wrong passwords and the lock, logout, roles,
escaping. Each test runs on SQLite and on PostgreSQL; screenshots in tests/screenshots/."""

from __future__ import annotations

from datetime import UTC, datetime
from urllib.parse import parse_qs, urlsplit

from sqlalchemy import select

from bot.app import build_app
from bot.web.logins import authenticate
from db.models.privacy import AuditEntry
from db.models.web import WebSession
from tests.auxil.browser import Browser, browser  # noqa: F401
from tests.auxil.web import PASSWORD, admin_site, make_login  # noqa: F401


async def test_login_lands_on_the_pages_of_the_role_and_logout_ends_it(browser: Browser):  # noqa: F811
    await browser.goto("/admin/logins", "asks-login")
    assert urlsplit(browser.page.url).path == "/admin/login"
    assert parse_qs(urlsplit(browser.page.url).query)["next"] == ["/admin/logins"]

    await make_login(browser.site.app, "quantri", "admin")
    await browser.fill_login("quantri", PASSWORD)
    # Back where the login was asked for, with the admin's name and the logout button.
    assert urlsplit(browser.page.url).path == "/admin/logins"
    body = await browser.text()
    assert "quantri · quản trị" in body and "Đăng xuất" in body
    assert "Tài khoản đăng nhập" in body

    await browser.goto("/admin/", "home")
    assert "Xin chào, quantri" in await browser.text()
    cookie = next(c for c in await browser.page.context.cookies() if c["name"] == "kcbot_admin")
    assert cookie["httpOnly"] and cookie["sameSite"] == "Strict" and cookie["path"] == "/admin"

    await browser.submit("Đăng xuất", "logged-out")
    assert urlsplit(browser.page.url).path == "/admin/login"
    assert "Bạn đã đăng xuất." in await browser.text()
    async with browser.site.app.sessions() as session:
        assert (await session.scalars(select(WebSession))).all() == []
    await browser.goto("/admin/", "after-logout")
    assert urlsplit(browser.page.url).path == "/admin/login"


async def test_wrong_password_shows_the_error_and_keeps_out(browser: Browser):  # noqa: F811
    await make_login(browser.site.app, "canbo", "staff")
    await browser.goto("/admin/login", "login")
    await browser.fill_login("canbo", "sai-mat-khau")
    assert "Tên đăng nhập hoặc mật khẩu không đúng." in await browser.text()
    await browser.goto("/admin/", "still-out")
    assert urlsplit(browser.page.url).path == "/admin/login"


async def test_five_wrong_passwords_lock_the_username_even_for_the_right_one(browser: Browser):  # noqa: F811
    await make_login(browser.site.app, "canbo", "staff")
    await browser.goto("/admin/login", "login")
    for _ in range(4):
        await browser.fill_login("canbo", "sai-mat-khau")
        assert "Tên đăng nhập hoặc mật khẩu không đúng." in await browser.text()
    await browser.fill_login("canbo", "sai-mat-khau")
    locked = "Đăng nhập sai quá nhiều lần. Vui lòng thử lại sau 15 phút."
    assert locked in await browser.text()
    await browser.fill_login("canbo", PASSWORD)
    assert locked in await browser.text()
    assert urlsplit(browser.page.url).path == "/admin/login"
    # The lock is in the database: another process serving the same site sees it.
    other = await build_app(browser.site.app.settings)
    try:
        async with other.sessions() as session, session.begin():
            attempt = await authenticate(session, "canbo", PASSWORD, datetime.now(UTC))
        assert attempt.outcome == "locked"
    finally:
        await other.close()

    # A username nobody has gets the same answers: the lock tells nothing about accounts.
    for _ in range(5):
        await browser.fill_login("khongco", "sai-mat-khau")
    assert locked in await browser.text()


async def test_staff_cannot_open_an_admin_page(browser: Browser):  # noqa: F811
    await browser.login("staff", "canbo")
    assert "Tài khoản đăng nhập" not in await browser.text()  # not in the nav
    response = await browser.goto("/admin/logins", "refused")
    assert response.status == 403
    assert "Trang này chỉ dành cho quản trị." in await browser.text()


async def test_typed_markup_shows_as_text(browser: Browser):  # noqa: F811
    alerts: list[str] = []
    browser.page.on("dialog", lambda dialog: alerts.append(dialog.message))
    script = "<script>alert(1)</script>"

    await browser.goto("/admin/login", "login")
    await browser.fill_login(script, "sai-mat-khau")
    assert await browser.page.get_by_label("Tên đăng nhập").input_value() == script

    await make_login(browser.site.app, "canbo", "staff")
    await browser.login("admin", "quantri")
    await browser.goto("/admin/logins", "logins")
    await browser.page.get_by_label("Tên đăng nhập").select_option("canbo")
    await browser.page.get_by_label("Tài khoản chat (KÊNH:MÃ_CHAT)").fill(f"telegram:{script}")
    await browser.submit("Liên kết", "linked")
    body = await browser.text()
    assert f"Đã liên kết canbo với telegram:{script}." in body  # the flash, as text
    assert f"telegram:{script}" in await browser.page.locator("table").inner_text()
    assert alerts == []
    async with browser.site.app.sessions() as session:
        entry = (
            await session.scalars(select(AuditEntry).where(AuditEntry.action == "web.login_linked"))
        ).one()
    assert entry.actor == "admin:web:quantri"
