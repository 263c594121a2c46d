"""«Cơ sở được giới thiệu» through the real server with a staff login (HTTP client):
the list with duplicates marked and filters in the address, a lead's status changed with a
note (audited as that login), the filtered export. SQLite and PostgreSQL."""

from __future__ import annotations

import io
from datetime import UTC, datetime, timedelta

from openpyxl import load_workbook
from sqlalchemy import select

from db.models.privacy import AuditEntry
from tests.auxil.leads import DA_NANG, HOA_VANG, add_lead
from tests.auxil.web import AdminSite, admin_site, form_token, http_login, make_login  # noqa: F401

SCRIPT = "<script>alert(1)</script>"


async def _three_leads(site: AdminSite) -> None:
    async with site.app.sessions() as session, session.begin():
        await add_lead(session, "Cơ sở mộc Minh Phát", "0912345678")
        await add_lead(session, "Mộc Minh Phát", "0988000111", notes="gọi buổi chiều")
        await add_lead(
            session,
            SCRIPT,
            "0988000222",
            province_code=DA_NANG,
            commune_code=HOA_VANG,
            status="contacted",
            created_at=datetime.now(UTC) - timedelta(days=30),
        )


async def test_list_marks_duplicates_filters_and_escapes(admin_site: AdminSite):  # noqa: F811
    await _three_leads(admin_site)
    await make_login(admin_site.app, "canbo", "staff")
    async with await http_login(admin_site, "canbo") as client:
        async with client.get("/admin/leads") as r:
            page = await r.text()
        assert r.status == 200 and "3 cơ sở." in page
        assert page.count("⚠ Có thể trùng") == 2  # the two Minh Phát, not the third
        assert SCRIPT not in page and "&lt;script&gt;alert(1)&lt;/script&gt;" in page
        assert "0912345678" in page and "Xuất Excel" in page

        async with client.get("/admin/leads", params={"status": "contacted"}) as r:
            page = await r.text()
        assert "1 cơ sở." in page and "Minh Phát" not in page
        async with client.get("/admin/leads", params={"province": str(DA_NANG)}) as r:
            assert "1 cơ sở." in await r.text()
        today = datetime.now(UTC).date().isoformat()
        async with client.get("/admin/leads", params={"since": today}) as r:
            assert "2 cơ sở." in await r.text()
        # A bad filter: said next to its field, the rest of the list still shown.
        async with client.get("/admin/leads", params={"since": "hôm qua"}) as r:
            page = await r.text()
        assert r.status == 200 and "Ngày chưa đúng. Ví dụ: 08/12/2026." in page
        assert "3 cơ sở." in page

        async with client.get("/admin/leads/export", params={"status": "new"}) as r:
            assert r.status == 200
            assert "attachment" in r.headers["Content-Disposition"]
            book = load_workbook(io.BytesIO(await r.read()))
        rows = list(book.active.iter_rows(values_only=True))
        assert (
            rows[0][:3] == ("Số", "Trạng thái", "Tên cơ sở") and rows[0][-1] == "Có thể trùng với"
        )
        assert [(r[0], r[1], r[-1]) for r in rows[1:]] == [(1, "mới", "#2"), (2, "mới", "#1")]


async def test_status_change_with_a_note_audited_as_the_login(admin_site: AdminSite):  # noqa: F811
    await _three_leads(admin_site)
    await make_login(admin_site.app, "canbo", "staff")
    async with await http_login(admin_site, "canbo") as client:
        async with client.get("/admin/leads/1") as r:
            page = await r.text()
        assert "Cơ sở #1: Cơ sở mộc Minh Phát" in page and "cơ sở #2" in page
        assert "Chưa có thay đổi nào." in page
        token = form_token(page)

        async with client.post("/admin/leads/1/status", data={"status": "contacted"}) as r:
            assert r.status == 403  # no CSRF token: nothing changes
        data = {"status": "contacted", "note": "Đã gọi, hẹn thứ Hai", "csrf_token": token}
        async with client.post("/admin/leads/1/status", data=data) as r:
            page = await r.text()
        assert str(r.url).endswith("/admin/leads/1")
        assert "Đã chuyển cơ sở #1 sang «đã liên hệ»." in page
        assert "mới → <strong>đã liên hệ</strong>" in page and "Đã gọi, hẹn thứ Hai" in page

        bad = {"status": "contacted", "note": "x" * 1001, "csrf_token": token}
        async with client.post("/admin/leads/1/status", data=bad) as r:
            page = await r.text()
        assert r.status == 400 and "Ghi chú dài quá (tối đa 1000 ký tự)." in page
        same = {"status": "contacted", "note": "", "csrf_token": token}
        async with client.post("/admin/leads/1/status", data=same) as r:
            assert r.status == 400 and "đã ở trạng thái «đã liên hệ»" in await r.text()
        async with client.get("/admin/leads/999") as r:
            assert r.status == 404 and "Không có cơ sở này" in await r.text()
    async with admin_site.app.sessions() as session:
        audit = (
            await session.scalars(select(AuditEntry).where(AuditEntry.action == "lead.set_status"))
        ).one()
    assert (audit.actor, audit.detail) == ("staff:web:canbo", "new -> contacted")
