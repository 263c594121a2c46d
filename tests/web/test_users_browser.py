"""«Người dùng & vai trò» in real Chromium: an admin grants a role and creates an invite;
a staff login is refused the page in Vietnamese. Screenshots in tests/screenshots/."""

from __future__ import annotations

import re
from urllib.parse import urlsplit

from sqlalchemy import select

from db.models.core import User
from db.models.events import OutboxMessage
from db.models.staff import Invite
from db.repos.core import UserRepo
from tests.auxil.browser import Browser, browser  # noqa: F401
from tests.auxil.web import admin_site  # noqa: F401


async def test_admin_grants_a_role_and_creates_an_invite(browser: Browser):  # noqa: F811
    async with browser.site.app.sessions() as session, session.begin():
        for n, name in enumerate(("Trần Thị Lan", "Lê Văn Cường", "<b>Đậm</b>")):
            await UserRepo(session).touch("telegram", str(700 + n), str(700 + n), name, "vi")
    await browser.login("admin", "quantri")
    await browser.goto("/admin/users", "users")
    body = await browser.text()
    assert "3 người dùng." in body and "<b>Đậm</b>" in body  # shown as text

    row = browser.page.locator("tr", has_text="Lê Văn Cường")
    await row.get_by_role("combobox").select_option(label="cộng tác viên")
    async with browser.page.expect_navigation():
        await row.get_by_role("button", name="Lưu").click()
    await browser.snap("role-granted")
    assert (
        "Đã đổi vai trò của Lê Văn Cường thành cộng tác viên; người đó được báo trong chat."
        in await browser.text()
    )
    async with browser.site.app.sessions() as session:
        user = await session.scalar(select(User).where(User.chat_id == "701"))
        told = await session.scalar(
            select(OutboxMessage.text).where(OutboxMessage.chat_id == "701")
        )
    assert user is not None and user.role == "collaborator"
    assert told == "✅ Bạn đã được cấp quyền cộng tác viên khuyến công."

    async with browser.page.expect_navigation():
        await browser.page.get_by_role("link", name="Mã mời").click()
    await browser.snap("invites")
    await browser.page.get_by_label("Vai trò").select_option(label="cán bộ")
    await browser.page.get_by_label("Thời hạn").select_option(label="7 ngày")
    await browser.submit("Tạo mã mời", "invite-created")
    shown = await browser.page.locator("p.code").inner_text()
    assert re.fullmatch(r"[A-Z0-9]{8}", shown)
    assert "Mã chỉ hiện một lần" in await browser.text()
    async with browser.site.app.sessions() as session:
        invite = (await session.scalars(select(Invite))).one()
    assert (invite.code, invite.role, invite.created_by) == (shown, "staff", "admin:web:quantri")

    await browser.goto("/admin/users/invites", "invites-again")
    body = await browser.text()
    assert shown not in body and "còn hiệu lực" in body

    await browser.goto("/admin/users/logins", "logins")
    assert "quantri (bạn)" in await browser.text()


async def test_a_staff_login_cannot_open_the_users_page(browser: Browser):  # noqa: F811
    await browser.login("staff", "canbo")
    assert "Người dùng & vai trò" not in await browser.text()
    response = await browser.goto("/admin/users", "refused")
    assert response.status == 403
    assert urlsplit(browser.page.url).path == "/admin/users"
    body = await browser.text()
    assert "Trang này chỉ dành cho quản trị." in body and "Về trang chủ" in body
