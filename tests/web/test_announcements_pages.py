"""«Thông báo» through the real aiohttp server with a logged-in staff session, on SQLite and
PostgreSQL: the live count as filters change, errors next to the fields, a scheduled
announcement in local time, the list with its report, cancel; audited as the login."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import select

from db.models.privacy import AuditEntry
from knowledge.formats import LOCAL_TZ
from tests.auxil.staff import make_staff, owner_in
from tests.auxil.web import AdminSite, admin_site, form_token, http_login, make_login  # noqa: F401
from tests.test_outbox_support import outbox_rows


async def people(site: AdminSite) -> None:
    await owner_in(site.app, "3001", province="Quảng Ngãi")
    await owner_in(site.app, "3002", province="Kon Tum")  # Quảng Ngãi since 2025
    await owner_in(site.app, "3003", province="Quảng Ngãi", channel="zalo_oa")
    await owner_in(site.app, "3101", province="Hà Nội")
    await make_staff(site.app, "9001")


async def test_compose_counts_live_refuses_mistakes_and_schedules(admin_site: AdminSite):  # noqa: F811
    await people(admin_site)
    await make_login(admin_site.app, "canbo", "staff")
    client = await http_login(admin_site, "canbo")
    async with client:
        async with client.get("/admin/announcements/new") as response:
            html = await response.text()
        token = form_token(html)
        assert "👥 5 người nhận (telegram: 4, zalo_oa: 1)" in html  # nobody filtered out yet
        assert 'value="zalo_oa"' in html  # the channels people use are offered

        live = {"csrf_token": token, "provinces": "Quảng Ngãi", "text": "Hội chợ <b>mở</b>"}
        async with client.post("/admin/announcements/live", data=live) as response:
            fragment = await response.text()
        assert "👥 3 người nhận (telegram: 2, zalo_oa: 1)" in fragment
        assert "Hội chợ &lt;b&gt;mở&lt;/b&gt;" in fragment  # the preview, as text
        live["channels"] = "zalo_oa"
        async with client.post("/admin/announcements/live", data=live) as response:
            assert "👥 1 người nhận (zalo_oa: 1)" in await response.text()

        bad = {"csrf_token": token, "text": "Hi", "when": "later", "at": "2020-01-01T08:00"}
        async with client.post("/admin/announcements/new", data=bad) as response:
            assert response.status == 400
            html = await response.text()
        assert 'id="e-text">Nội dung phải dài từ 5 đến 3500 ký tự.' in html
        assert 'id="e-at">Thời điểm này đã qua' in html

        at = (datetime.now(LOCAL_TZ) + timedelta(days=3)).replace(hour=8, minute=0)
        good = {
            "csrf_token": token,
            "text": "Hội chợ hàng CNNT mở đăng ký đến 20/12.",
            "button": "intake",
            "provinces": "Quảng Ngãi",
            "when": "later",
            "at": at.strftime("%Y-%m-%dT%H:%M"),
        }
        async with client.post("/admin/announcements/new", data=good) as response:
            html = await response.text()
            assert response.url.path == "/admin/announcements/1"
        when = at.strftime("%d/%m/%Y %H:%M")
        assert f"Đã xếp hàng thông báo #1 cho 3 người nhận, gửi từ {when}." in html
        assert f"hẹn gửi {when}" in html
        assert "📝 Tạo hồ sơ" in html  # the preview shows the button
        rows = [r for r in await outbox_rows(admin_site.app.sessions) if r.campaign == "bc:1"]
        assert sorted(r.chat_id for r in rows) == ["3001", "3002", "3003"]

        async with client.get("/admin/announcements") as response:
            html = await response.text()
        assert "Hội chợ hàng CNNT mở đăng ký" in html and "Đã gửi 0/3 · chờ gửi 3" in html

        async with client.post(
            "/admin/announcements/1/cancel", data={"csrf_token": token}
        ) as response:
            html = await response.text()
        assert "Đã dừng thông báo #1: 3 tin chưa gửi được hủy." in html
        assert "đã hủy" in html
    async with admin_site.app.sessions() as session:
        actions = [
            (e.actor, e.action, e.subject) for e in (await session.scalars(select(AuditEntry)))
        ]
    assert ("staff:web:canbo", "broadcast.send", "bc:1") in actions
    assert ("staff:web:canbo", "broadcast.cancel", "bc:1") in actions


async def test_nobody_in_the_audience_sends_nothing(admin_site: AdminSite):  # noqa: F811
    await people(admin_site)
    await make_login(admin_site.app, "canbo", "staff")
    client = await http_login(admin_site, "canbo")
    async with client:
        async with client.get("/admin/announcements/new") as response:
            token = form_token(await response.text())
        data = {"csrf_token": token, "text": "Thông báo cho cộng tác viên", "roles": "collaborator"}
        async with client.post("/admin/announcements/new", data=data) as response:
            assert response.status == 400
            assert "Không có ai thuộc nhóm này nên chưa gửi" in await response.text()
        async with client.get("/admin/announcements") as response:
            assert "Chưa gửi thông báo nào." in await response.text()
