"""«Sự kiện» through the real aiohttp server with a logged-in staff session, on SQLite and
PostgreSQL: list with filters and pages, add with errors next to the fields, edit, cancel
(pending reminders stop), import with the bad rows listed, everything escaped and audited."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import aiohttp
from sqlalchemy import select

from db.models.privacy import AuditEntry
from knowledge.formats import LOCAL_TZ
from tests.auxil.web import AdminSite, admin_site, form_token, http_login, make_login  # noqa: F401
from tests.test_outbox_support import outbox_rows, subscribe


def day(offset: int) -> str:
    """A local date ``offset`` days from today, as staff type it."""
    return (datetime.now(LOCAL_TZ) + timedelta(days=offset)).strftime("%d/%m/%Y")


async def staff_client(site: AdminSite) -> aiohttp.ClientSession:
    await make_login(site.app, "canbo", "staff")
    return await http_login(site, "canbo")


async def post_form(
    client: aiohttp.ClientSession, page: str, action: str, data: dict[str, str]
) -> tuple[int, str, str]:
    """Open ``page``, post ``data`` with its CSRF token to ``action``; (status, html, where)."""
    async with client.get(page) as response:
        token = form_token(await response.text())
    async with client.post(action, data={**data, "csrf_token": token}) as response:
        return response.status, await response.text(), response.url.path


async def test_add_shows_errors_next_to_fields_then_saves(admin_site: AdminSite):  # noqa: F811
    client = await staff_client(admin_site)
    async with client:
        bad = {"title": "", "kind": "trade_fair", "start": "31/02/2026", "end": "x"}
        status, html, _ = await post_form(client, "/admin/events/new", "/admin/events/new", bad)
        assert status == 400
        assert 'id="e-title">Thiếu tiêu đề' in html
        assert 'id="e-start">Ngày bắt đầu «31/02/2026» không đúng' in html
        assert 'id="e-end">' in html
        assert 'value="31/02/2026"' in html  # what was typed stays in the form

        good = {
            "title": "Hội chợ <script>alert(1)</script>",
            "kind": "trade_fair",
            "start": day(10),
            "end": day(13),
            "place": "Cung Văn hóa",
            "provinces": "Quảng Ngãi; kon tum",
        }
        status, html, where = await post_form(
            client, "/admin/events/new", "/admin/events/new", good
        )
        assert (status, where) == (200, "/admin/events")
        assert "Đã thêm sự kiện #1: Hội chợ &lt;script&gt;alert(1)&lt;/script&gt;." in html
        assert "<script>alert(1)</script>" not in html
        assert "Quảng Ngãi" in html and "Sắp tới" in html
    async with admin_site.app.sessions() as session:
        entry = (
            await session.scalars(select(AuditEntry).where(AuditEntry.action.like("event.%")))
        ).one()
    assert (entry.actor, entry.action, entry.subject) == ("staff:web:canbo", "event.add", "event:1")


async def test_edit_then_cancel_stops_the_pending_reminders(admin_site: AdminSite):  # noqa: F811
    sessions = admin_site.app.sessions
    await subscribe(sessions, "501")
    client = await staff_client(admin_site)
    async with client:
        data = {"title": "Hạn nộp đề án 2027", "kind": "deadline", "start": day(3)}
        await post_form(client, "/admin/events/new", "/admin/events/new", data)
        # added 3 days ahead: the 7-day reminder is due, queued for the subscriber at once
        rows = [r for r in await outbox_rows(sessions) if r.campaign.startswith("rem:1:")]
        assert [(r.chat_id, r.status) for r in rows] == [("501", "pending")]

        async with client.get("/admin/events/1") as response:
            html = await response.text()
        assert 'value="Hạn nộp đề án 2027"' in html and "Hủy sự kiện này" in html
        data["place"] = "Sở Công Thương"
        status, html, where = await post_form(client, "/admin/events/1", "/admin/events/1", data)
        assert where == "/admin/events"
        assert "Đã lưu sự kiện #1: Hạn nộp đề án 2027." in html
        rows = [r for r in await outbox_rows(sessions) if r.campaign.startswith("rem:1:")]
        assert [r.status for r in rows] == ["pending"] and "Sở Công Thương" in rows[0].text

        status, html, where = await post_form(
            client, "/admin/events/1", "/admin/events/1/cancel", {}
        )
        assert where == "/admin/events"
        assert (
            "Đã hủy sự kiện #1: Hạn nộp đề án 2027. Bỏ 1 lời nhắc chưa gửi; "
            "báo hủy cho 0 người đã được nhắc." in html
        )
        rows = [r for r in await outbox_rows(sessions) if r.campaign.startswith("rem:1:")]
        assert [r.status for r in rows] == ["cancelled"]
        async with client.get("/admin/events?status=cancelled") as response:
            html = await response.text()
        assert "Hạn nộp đề án 2027" in html and "Đã hủy" in html
        async with client.get("/admin/events") as response:
            assert "Hạn nộp đề án 2027" not in await response.text()

        # put back on: the reminder the cancellation stopped is queued again
        status, html, where = await post_form(
            client, "/admin/events/1", "/admin/events/1/reopen", {}
        )
        assert where == "/admin/events/1"
        assert "Đã khôi phục sự kiện #1: Hạn nộp đề án 2027." in html
        assert "Hủy sự kiện này" in html
        rows = [r for r in await outbox_rows(sessions) if r.campaign.startswith("rem:1:")]
        assert [(r.chat_id, r.status) for r in rows] == [("501", "pending")]
        async with client.get("/admin/events/99") as response:
            assert response.status == 404


async def test_list_is_paginated_and_filtered_by_kind(admin_site: AdminSite):  # noqa: F811
    from handlers.reminders import service

    async with admin_site.app.sessions() as session, session.begin():
        for n in range(25):
            data = service.read_form(
                {"title": f"Tập huấn {n:02d}", "kind": "training", "start": day(n)}
            )
            await service.add_event(session, data, actor="os:test", now=datetime.now(UTC))
        fair = service.read_form({"title": "Hội chợ", "kind": "trade_fair", "start": day(3)})
        await service.add_event(session, fair, actor="os:test", now=datetime.now(UTC))
    client = await staff_client(admin_site)
    async with client:
        async with client.get("/admin/events") as response:
            first = await response.text()
        async with client.get("/admin/events?page=2") as response:
            second = await response.text()
        async with client.get("/admin/events?kind=trade_fair") as response:
            fairs = await response.text()
    assert "Trang 1/2 · 26 dòng" in first and "Tập huấn 00" in first and "Tập huấn 24" not in first
    assert "Tập huấn 24" in second and "Tập huấn 00" not in second
    assert "Hội chợ" in fairs and "Tập huấn" not in fairs.split("<tbody>")[1]


async def test_import_lists_the_rows_that_could_not_be_read(admin_site: AdminSite):  # noqa: F811
    csv = (
        "tiêu đề,loại,bắt đầu,địa điểm\n"
        f"Hội nghị khuyến công,hội nghị,{day(20)} 08:30,Hải Phòng\n"
        f",hạn nộp,{day(5)},\n"
        f"Sự kiện lạ,liên hoan,{day(5)},\n"
    ).encode()
    client = await staff_client(admin_site)
    async with client:
        async with client.get("/admin/events/import") as response:
            token = form_token(await response.text())
        form = aiohttp.FormData()
        form.add_field("csrf_token", token)
        form.add_field("file", csv, filename="su-kien.csv", content_type="text/csv")
        async with client.post("/admin/events/import", data=form) as response:
            html = await response.text()
            assert response.status == 200
        assert "Tệp su-kien.csv: Thêm mới 1, cập nhật 0, không đổi 0, lỗi 2 dòng." in html
        assert "<td>3</td><td>Thiếu tiêu đề (title / tiêu đề)</td>" in html
        assert "<td>4</td><td>Loại «liên hoan» không rõ" in html

        form = aiohttp.FormData()
        form.add_field("csrf_token", token)
        form.add_field("file", b"PK\x03\x04 junk", filename="hong.xlsx")
        async with client.post("/admin/events/import", data=form) as response:
            assert response.status == 400
            assert "không phải bảng tính XLSX" in await response.text()
        async with client.get("/admin/events") as response:
            assert "Hội nghị khuyến công" in await response.text()
