"""«Hồ sơ» through the real aiohttp server with a logged-in HTTP client: the list, its
filters and pages, escaping, the export, one draft, its DOCX, a status change with its
errors shown next to the field — SQLite and PostgreSQL."""

from __future__ import annotations

import io

from sqlalchemy import select

from db.models.events import OutboxMessage
from db.models.privacy import AuditEntry
from db.repos.drafts import DraftRepo
from db.repos.faq import UnansweredRepo
from db.repos.faq_feedback import FeedbackRepo
from tests.auxil.intake import docx_text
from tests.auxil.web import (
    AdminSite,
    admin_site,  # noqa: F401
    form_token,
    http_login,
    make_login,
)
from tests.web.test_drafts_service import HA_NOI, QUANG_NGAI, add_draft


async def seed(site: AdminSite, count: int = 3) -> list[int]:
    async with site.app.sessions() as session, session.begin():
        ids = [(await add_draft(session, n)).id for n in range(1, count + 1)]
        other = await add_draft(session, 99, status="submitted", province=HA_NOI)
        other.facility_name = "<script>alert(1)</script>"
        ids.append(other.id)
    return ids


async def test_list_filters_pages_and_escapes(admin_site: AdminSite):  # noqa: F811
    await seed(admin_site, 55)
    await make_login(admin_site.app, "canbo", "staff")
    async with await http_login(admin_site, "canbo") as client:
        async with client.get("/admin/drafts") as r:
            page = await r.text()
        assert r.status == 200 and "56</strong> hồ sơ" in page
        assert "Trang 1/2" in page and "Cơ sở số 55" in page and "Cơ sở số 1<" not in page
        # A facility named like a script is shown as text.
        assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page and "<script>alert" not in page
        async with client.get("/admin/drafts?page=2") as r:
            page = await r.text()
        assert "Trang 2/2" in page and "Cơ sở số 1<" in page

        async with client.get(f"/admin/drafts?province={HA_NOI}") as r:
            page = await r.text()
        assert "1</strong> hồ sơ khớp bộ lọc" in page and "Cơ sở số 5<" not in page
        # The export link carries the same filters.
        assert f"/admin/drafts/export?province={HA_NOI}" in page
        async with client.get(f"/admin/drafts?status=submitted&province={QUANG_NGAI}") as r:
            assert "Không có hồ sơ nào khớp bộ lọc này." in await r.text()

        # Bad values: said next to the field, the rest of the filter still applies.
        async with client.get("/admin/drafts?status=bogus&from=hom-qua") as r:
            page = await r.text()
        assert r.status == 200
        assert "Chọn một trạng thái trong danh sách." in page
        assert "Ngày viết dạng ngày/tháng/năm" in page and "56</strong> hồ sơ" in page


async def test_export_is_the_filtered_list_in_excel(admin_site: AdminSite):  # noqa: F811
    await seed(admin_site)
    await make_login(admin_site.app, "canbo", "staff")
    client = await http_login(admin_site, "canbo")
    async with client, client.get(f"/admin/drafts/export?province={QUANG_NGAI}") as r:
        assert r.status == 200
        assert "spreadsheetml" in r.headers["Content-Type"]
        assert "attachment" in r.headers["Content-Disposition"]
        content = await r.read()
    from openpyxl import load_workbook

    sheet = load_workbook(io.BytesIO(content)).active
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[0][:4] == ("Mã hồ sơ", "Trạng thái", "Nội dung hỗ trợ", "Tên cơ sở")
    assert len(rows) == 4 and {r[3] for r in rows[1:]} == {"Cơ sở số 1", "Cơ sở số 2", "Cơ sở số 3"}


async def test_one_draft_its_document_and_a_status_change(admin_site: AdminSite):  # noqa: F811
    ids = await seed(admin_site)
    draft_id = ids[0]
    await make_login(admin_site.app, "canbo", "staff", chat="telegram:777")
    async with await http_login(admin_site, "canbo") as client:
        async with client.get(f"/admin/drafts/{draft_id}") as r:
            page = await r.text()
        assert r.status == 200 and "Cơ sở số 1" in page and "Lịch sử" in page
        assert "Đã xác nhận (chưa nộp)" in page and "0900000001" in page
        async with client.get(f"/admin/drafts/{draft_id}/docx") as r:
            assert r.status == 200 and r.headers["Content-Type"].startswith(
                "application/vnd.openxmlformats-officedocument.wordprocessingml"
            )
            assert "Chủ 1" in docx_text(await r.read())

        token = form_token(page)
        # No status chosen: said next to the field, nothing changed.
        data = {"csrf_token": token, "status": "", "note": "giữ ghi chú"}
        async with client.post(f"/admin/drafts/{draft_id}/status", data=data) as r:
            page = await r.text()
        assert r.status == 400 and "Chọn trạng thái mới." in page and "giữ ghi chú" in page
        # Outside the workflow (a stale page): the reason, and what is allowed.
        data = {"csrf_token": token, "status": "approved", "note": ""}
        async with client.post(f"/admin/drafts/{draft_id}/status", data=data) as r:
            page = await r.text()
        assert r.status == 400 and "Không chuyển thẳng «Đã xác nhận (chưa nộp)»" in page
        data = {"csrf_token": token, "status": "submitted", "note": "x" * 1001}
        async with client.post(f"/admin/drafts/{draft_id}/status", data=data) as r:
            assert "Ghi chú dài quá" in await r.text()

        note = "Đã nhận <b>bản giấy</b>"
        data = {"csrf_token": token, "status": "submitted", "note": note}
        async with client.post(f"/admin/drafts/{draft_id}/status", data=data) as r:
            page = await r.text()
        assert r.status == 200 and r.url.path == f"/admin/drafts/{draft_id}"
        assert f"Đã chuyển hồ sơ #{draft_id} sang «Đã nộp»; đã nhắn chủ cơ sở qua chat." in page
        assert "Đã nhận &lt;b&gt;bản giấy&lt;/b&gt;" in page
        # Without its CSRF token the form is refused and nothing moves.
        async with client.post(
            f"/admin/drafts/{draft_id}/status", data={"status": "under_review"}
        ) as r:
            assert r.status == 403
        async with client.get("/admin/drafts/999999") as r:
            assert r.status == 404 and "Không có hồ sơ #999999." in await r.text()

    async with admin_site.app.sessions() as session:
        draft = await DraftRepo(session).get(draft_id)
        assert draft is not None and draft.status == "submitted"
        message = await session.scalar(select(OutboxMessage).order_by(OutboxMessage.id.desc()))
        assert message is not None and message.chat_id == draft.chat_id and note in message.text
        audit = await session.scalar(
            select(AuditEntry).where(AuditEntry.action == "draft.set_status")
        )
        # Audited as the person behind the login (linked to their chat account).
        assert audit is not None and "777" in audit.actor


async def test_overview_shows_the_figures(admin_site: AdminSite):  # noqa: F811
    await seed(admin_site)
    await make_login(admin_site.app, "canbo", "staff")
    async with await http_login(admin_site, "canbo") as client:
        async with client.get("/admin/") as r:
            page = await r.text()
        assert r.status == 200 and "Chưa có câu hỏi nào trong 14 ngày qua." in page
        async with admin_site.app.sessions() as session, session.begin():
            await FeedbackRepo(session).add("telegram", "1", "e1", "given")
            await UnansweredRepo(session).add("zalo_oa", "2", "<b>giá vàng</b>?")
        async with client.get("/admin/") as r:
            page = await r.text()
    assert r.status == 200 and "<h1>Tổng quan</h1>" in page
    assert "Mới xác nhận: <strong>4</strong> hôm nay" in page
    assert 'href="/admin/drafts?status=submitted">Đã nộp</a>' in page
    # The chart: one bar per day, today's with its figures in the tooltip.
    assert page.count('<rect class="asked"') == 14
    assert "2 câu hỏi, bot trả lời được 1</title>" in page
    assert '<td>Telegram</td><td class="n">4</td>' in page
    assert "giá vàng" not in page  # counts only: no question text on the overview


async def test_an_unfinished_draft_can_be_read_but_not_moved(admin_site: AdminSite):  # noqa: F811
    async with admin_site.app.sessions() as session, session.begin():
        draft = await add_draft(session, 5, status="in_progress")
    await make_login(admin_site.app, "canbo", "staff")
    async with await http_login(admin_site, "canbo") as client:
        async with client.get("/admin/drafts?status=in_progress") as r:
            assert "Cơ sở số 5" in await r.text()
        async with client.get(f"/admin/drafts/{draft.id}") as r:
            page = await r.text()
        assert "Chủ cơ sở chưa xác nhận hồ sơ này" in page and "/docx" not in page
        assert "Chuyển trạng thái</button>" not in page
        async with client.get(f"/admin/drafts/{draft.id}/docx") as r:
            assert r.status == 404
        data = {"csrf_token": form_token(page), "status": "submitted"}
        async with client.post(f"/admin/drafts/{draft.id}/status", data=data) as r:
            assert r.status == 404 and f"Không có hồ sơ #{draft.id}" in await r.text()


async def test_search_by_number_or_phone_is_posted(admin_site: AdminSite):  # noqa: F811
    ids = await seed(admin_site)
    await make_login(admin_site.app, "canbo", "staff")
    async with await http_login(admin_site, "canbo") as client:
        async with client.get("/admin/drafts") as r:
            token = form_token(await r.text())
        async with client.post(
            "/admin/drafts/search", data={"csrf_token": token, "q": f"#{ids[1]}"}
        ) as r:
            assert r.url.path == f"/admin/drafts/{ids[1]}" and "Cơ sở số 2" in await r.text()
        # The phone as an owner reads it out; the address stays free of it.
        data = {"csrf_token": token, "q": "+84 900 000 003"}
        async with client.post("/admin/drafts/search", data=data) as r:
            page = await r.text()
        assert r.url.path == "/admin/drafts/search" and "900" not in r.url.query_string
        assert "1</strong> hồ sơ tìm được" in page and "Cơ sở số 3" in page
        assert "Cơ sở số 2" not in page
        for text, error in (
            ("0912 000 999", "Không có hồ sơ nào với số điện thoại này."),
            ("#999999", "Không có hồ sơ #999999."),
            ("Minh Phát", "Gõ mã hồ sơ (ví dụ 12) hoặc số điện thoại"),
        ):
            async with client.post(
                "/admin/drafts/search", data={"csrf_token": token, "q": text}
            ) as r:
                assert r.status == 400 and error in await r.text(), text
        async with client.post("/admin/drafts/search", data={"q": "1"}) as r:
            assert r.status == 403
