"""«Người dùng & vai trò» through the real server (HTTP client): admin only; 50,000-ready
keyset pages with filters; a role granted (the person told through the outbox); a search
sent by POST; invites shown once; staff logins managed with the CLI's service."""

from __future__ import annotations

import re
from datetime import UTC, datetime

from sqlalchemy import insert, select

from db.models.core import User
from db.models.events import OutboxMessage
from db.models.privacy import AuditEntry
from db.models.web import WebLogin
from tests.auxil.web import (  # noqa: F401
    PASSWORD,
    AdminSite,
    admin_site,
    form_token,
    http_client,
    http_login,
    make_login,
)


async def _users(site: AdminSite, n: int) -> None:
    now = datetime.now(UTC)
    rows = [
        {
            "channel": "zalo_oa" if i % 3 == 0 else "telegram",
            "chat_id": str(500000 + i),
            "user_id": str(500000 + i),
            "display_name": f"Người dùng {i}",
            "role": "collaborator" if i % 10 == 0 else "owner",
            "unreachable": False,
            "first_seen": now,
            "last_seen": now,
        }
        for i in range(n)
    ]
    async with site.app.sessions() as session, session.begin():
        await session.execute(insert(User), rows)


def _names(page: str) -> list[str]:
    return re.findall(r"<td>(Người dùng \d+)", page)


async def test_staff_get_a_vietnamese_403(admin_site: AdminSite):  # noqa: F811
    await make_login(admin_site.app, "canbo", "staff")
    async with await http_login(admin_site, "canbo") as client:
        for path in ("/admin/users", "/admin/users/invites", "/admin/users/logins"):
            async with client.get(path) as r:
                assert r.status == 403
                assert "Trang này chỉ dành cho quản trị." in await r.text()
        async with client.get("/admin/leads") as r:
            page = await r.text()
        assert "Người dùng &amp; vai trò" not in page  # not in the staff's nav either


async def test_users_by_keyset_with_filters_and_a_role_granted(admin_site: AdminSite):  # noqa: F811
    await _users(admin_site, 120)
    await make_login(admin_site.app, "quantri", "admin")
    async with await http_login(admin_site, "quantri") as client:
        async with client.get("/admin/users") as r:
            page = await r.text()
        assert "120 người dùng." in page
        assert _names(page)[:2] == ["Người dùng 119", "Người dùng 118"] and len(_names(page)) == 50
        older = re.search(r'href="([^"]+)">Cũ hơn', page)
        assert older and "Mới hơn" not in page
        async with client.get(older.group(1).replace("&amp;", "&")) as r:
            second = await r.text()
        assert _names(second)[0] == "Người dùng 69" and "Mới hơn" in second

        async with client.get(
            "/admin/users", params={"role": "collaborator", "channel": "zalo_oa"}
        ) as r:
            page = await r.text()
        assert "4 người dùng khớp bộ lọc." in page  # 0, 30, 60, 90
        async with client.get("/admin/users", params={"role": "vua"}) as r:
            assert "Vai trò phải là" in await r.text()

        # The search is a POST: the name never reaches the address.
        token = form_token(page)
        async with client.post(
            "/admin/users/search", data={"q": "dùng 7", "csrf_token": token}
        ) as r:
            found = await r.text()
        assert r.url.path == "/admin/users/search" and "dùng" not in str(r.url)
        assert set(_names(found)) == {"Người dùng 7", *(f"Người dùng {n}" for n in range(70, 80))}
        async with client.post("/admin/users/search", data={"q": "x", "csrf_token": token}) as r:
            assert r.status == 400 and "Gõ ít nhất 2 ký tự" in await r.text()

        async with admin_site.app.sessions() as session:
            target = await session.scalar(select(User).where(User.chat_id == "500007"))
        data = {"role": "staff", "csrf_token": token, "back": "/admin/users?role=owner"}
        async with client.post(f"/admin/users/{target.id}/role", data=data) as r:
            page = await r.text()
        assert r.url.path_qs == "/admin/users?role=owner"
        assert "Đã đổi vai trò của Người dùng 7 thành cán bộ; người đó được báo trong chat." in page
        data["back"] = "https://example.com/"
        async with client.post(f"/admin/users/{target.id}/role", data=data) as r:
            assert r.url.path == "/admin/users" and "Người dùng 7 đã là cán bộ." in await r.text()
    async with admin_site.app.sessions() as session:
        told = (
            await session.scalars(
                select(OutboxMessage.text).where(OutboxMessage.chat_id == "500007")
            )
        ).all()
        audit = (
            await session.scalars(select(AuditEntry).where(AuditEntry.action == "role.set"))
        ).all()
    assert told == ["✅ Bạn đã được cấp quyền cán bộ Trung tâm."]
    assert {(a.actor, a.subject) for a in audit} == {("admin:web:quantri", "telegram:500007")}


async def test_an_admin_cannot_change_their_own_linked_chat(admin_site: AdminSite):  # noqa: F811
    await make_login(admin_site.app, "quantri", "admin", chat="telegram:42")
    async with await http_login(admin_site, "quantri") as client:
        async with client.get("/admin/users") as r:
            page = await r.text()
        async with admin_site.app.sessions() as session:
            me = await session.scalar(select(User).where(User.chat_id == "42"))
        data = {"role": "owner", "csrf_token": form_token(page)}
        async with client.post(f"/admin/users/{me.id}/role", data=data) as r:
            assert "Bạn không thể tự đổi vai trò của chính mình." in await r.text()
    async with admin_site.app.sessions() as session:
        assert (await session.get(User, me.id)).role == "admin"


async def test_invite_code_shown_once(admin_site: AdminSite):  # noqa: F811
    await make_login(admin_site.app, "quantri", "admin")
    async with await http_login(admin_site, "quantri") as client:
        async with client.get("/admin/users/invites") as r:
            token = form_token(await r.text())
        data = {"role": "collaborator", "hours": "168", "csrf_token": token}
        async with client.post("/admin/users/invites", data=data) as r:
            page = await r.text()
        assert r.status == 201
        code = re.search(r'<p class="code">([A-Z0-9]{8})</p>', page)
        assert code and "Mã chỉ hiện <strong>một lần</strong>" in page
        async with client.get("/admin/users/invites") as r:
            page = await r.text()
        assert code.group(1) not in page and "còn hiệu lực" in page
        bad = {"role": "owner", "hours": "abc", "csrf_token": token}
        async with client.post("/admin/users/invites", data=bad) as r:
            assert r.status == 400 and "Chọn thời hạn của mã." in await r.text()
        bad["hours"] = "72"
        async with client.post("/admin/users/invites", data=bad) as r:
            assert r.status == 400 and "Mã mời dành cho:" in await r.text()


async def test_staff_logins_added_reset_linked_and_removed(admin_site: AdminSite):  # noqa: F811
    await make_login(admin_site.app, "quantri", "admin")
    async with await http_login(admin_site, "quantri") as client:
        async with client.get("/admin/users/logins") as r:
            token = form_token(await r.text())
        add = {
            "username": "CanBo.Lan",
            "role": "staff",
            "password": "mat-khau-moi-1",
            "password2": "mat-khau-khac",
            "csrf_token": token,
        }
        async with client.post("/admin/users/logins/add", data=add) as r:
            page = await r.text()
        assert r.status == 400 and "Hai lần nhập mật khẩu không khớp." in page
        assert 'value="CanBo.Lan"' in page  # what was typed stays in the form
        add["password2"] = add["password"]
        async with client.post("/admin/users/logins/add", data=add) as r:
            assert "Đã tạo tài khoản canbo.lan." in await r.text()
        async with client.post("/admin/users/logins/add", data=add) as r:
            assert r.status == 400 and "Tên đăng nhập «canbo.lan» đã có." in await r.text()

        short = {
            "username": "canbo.lan",
            "password": "ngan",
            "password2": "ngan",
            "csrf_token": token,
        }
        async with client.post("/admin/users/logins/password", data=short) as r:
            assert r.status == 400 and "Mật khẩu cần ít nhất 8 ký tự." in await r.text()
        new = {**short, "password": "mat-khau-thu-hai", "password2": "mat-khau-thu-hai"}
        async with client.post("/admin/users/logins/password", data=new) as r:
            assert "Đã đặt mật khẩu mới cho canbo.lan" in await r.text()

        link = {"username": "canbo.lan", "chat": "telegram:777", "csrf_token": token}
        async with client.post("/admin/users/logins/link", data=link) as r:
            assert "Đã liên kết canbo.lan với telegram:777." in await r.text()
        async with client.post(
            "/admin/users/logins/remove", data={"username": "quantri", "csrf_token": token}
        ) as r:
            assert r.status == 400 and "Bạn không thể tự xoá tài khoản đang dùng." in await r.text()
    # The new password works.
    other = await http_login(admin_site, "canbo.lan", "mat-khau-thu-hai")
    async with other, other.get("/admin/leads") as r:
        assert r.status == 200
    async with await http_login(admin_site, "quantri") as client:
        async with client.get("/admin/users/logins") as r:
            token = form_token(await r.text())
        data = {"username": "canbo.lan", "csrf_token": token}
        async with client.post("/admin/users/logins/remove", data=data) as r:
            assert "Đã xoá tài khoản canbo.lan." in await r.text()
    async with admin_site.app.sessions() as session:
        assert [login.username for login in (await session.scalars(select(WebLogin))).all()] == [
            "quantri"
        ]
        staff = await session.scalar(select(User).where(User.chat_id == "777"))
        assert staff is not None and staff.role == "staff"
