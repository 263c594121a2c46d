"""The drafts service the «Hồ sơ» page and `kcbot drafts` share: filters, pages, one draft
with its history and document, the export, status changes — on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from db.models.events import OutboxMessage
from db.models.privacy import AuditEntry
from db.repos.core import UserRepo
from db.repos.drafts import DraftRepo
from handlers.intake.service import (
    DraftFilter,
    StatusError,
    change_status,
    draft_detail,
    draft_document,
    export_sheet,
    list_drafts,
    read_filter,
)
from knowledge.places import match_province
from tests.auxil.intake import docx_text
from tests.test_cli_drafts import confirmed_draft

QUANG_NGAI = match_province("Quảng Ngãi")[0].code
HA_NOI = match_province("Hà Nội")[0].code


async def add_draft(
    session, n: int, *, status="draft", province=QUANG_NGAI, support="machinery", created=None
):
    """A draft as the intake leaves it, through the repository the intake uses."""
    user = await UserRepo(session).touch("telegram", f"9{n:04d}", f"9{n:04d}", f"Chủ {n}", "vi")
    repo = DraftRepo(session)
    draft = await repo.start(user.id, "telegram", user.chat_id)
    repo.update(
        draft,
        {},
        {
            "support_type": support,
            "facility_name": f"Cơ sở số {n}",
            "owner_name": f"Chủ {n}",
            "phone": f"09{n:08d}",
            "province": "Quảng Ngãi" if province == QUANG_NGAI else "Hà Nội",
            "province_code": province,
            "estimated_cost": 100_000_000 + n,
        },
    )
    if status != "in_progress":
        await repo.set_status(draft, "draft", actor=f"user:{user.id}")
        if status != "draft":
            await repo.set_status(draft, status, actor="staff:test")
    if created is not None:
        draft.created_at = created
    await session.flush()
    return draft


async def test_filters_combine_and_pages_go_newest_first(app):
    now = datetime.now(UTC)
    async with app.sessions() as session, session.begin():
        for n in range(1, 8):
            await add_draft(session, n)
        await add_draft(session, 8, status="submitted", province=HA_NOI)
        await add_draft(session, 9, support="training", created=now - timedelta(days=40))
        await add_draft(session, 10, status="in_progress")
    async with app.sessions() as session:
        page = await list_drafts(session, DraftFilter(), page=1, per_page=4)
        assert page.total == 9 and page.pages == 3  # the unfinished one is not listed
        assert [d.facility_name for d in page.drafts][:2] == ["Cơ sở số 9", "Cơ sở số 8"]
        last = await list_drafts(session, DraftFilter(), page=99, per_page=4)
        assert last.page == 3 and [d.facility_name for d in last.drafts] == ["Cơ sở số 1"]

        by_province = await list_drafts(session, DraftFilter(province_code=HA_NOI))
        assert [d.facility_name for d in by_province.drafts] == ["Cơ sở số 8"]
        by_status = await list_drafts(session, DraftFilter(status="submitted"))
        assert by_status.total == 1
        by_support = await list_drafts(session, DraftFilter(support_type="training"))
        assert [d.facility_name for d in by_support.drafts] == ["Cơ sở số 9"]
        recent = await list_drafts(session, DraftFilter(date_from=(now - timedelta(days=7)).date()))
        assert recent.total == 8
        old = await list_drafts(session, DraftFilter(date_to=(now - timedelta(days=30)).date()))
        assert [d.facility_name for d in old.drafts] == ["Cơ sở số 9"]
        both = await list_drafts(
            session, DraftFilter(status="draft", province_code=QUANG_NGAI, support_type="machinery")
        )
        assert both.total == 7
        everything = await list_drafts(session, DraftFilter(status="all"))
        assert everything.total == 10


def test_read_filter_reads_the_query_string_and_names_bad_fields():
    flt, errors = read_filter(
        {
            "status": "submitted",
            "province": str(QUANG_NGAI),
            "support": "machinery",
            "from": "2026-11-01",
            "to": "30/11/2026",
        }
    )
    assert errors == {}
    assert flt.status == "submitted" and flt.province_code == QUANG_NGAI
    assert flt.date_from.isoformat() == "2026-11-01" and flt.date_to.isoformat() == "2026-11-30"
    # And back: the same parameters, nothing personal, nothing empty.
    assert read_filter(flt.params())[0] == flt

    flt, errors = read_filter(
        {"status": "bogus", "province": "99999", "support": "x", "from": "hôm qua", "to": ""}
    )
    assert flt == DraftFilter()
    assert set(errors) == {"status", "province", "support", "from"}
    assert "ngày/tháng/năm" in errors["from"]
    flt, errors = read_filter({"from": "0001-01-01", "to": "9999-12-31"})
    assert set(errors) == {"from", "to"} and flt.criteria().created_from is None
    _, errors = read_filter({"from": "2026-12-02", "to": "2026-12-01"})
    assert errors == {"to": "«Đến ngày» phải sau «Từ ngày»."}
    # The command line types a name, old names included.
    assert read_filter({"province": "quang ngai"})[0].province_code == QUANG_NGAI


async def test_one_draft_with_history_document_and_status_change(app):
    draft_id = await confirmed_draft(app)
    async with app.sessions() as session, session.begin():
        change = await change_status(
            session, draft_id, "submitted", actor="web:canbo1", note="Đã nhận bản giấy"
        )
        assert change.told == "outbox"
    async with app.sessions() as session:
        detail = await draft_detail(session, draft_id)
        assert detail is not None
        fields = dict(detail.fields)
        assert fields["Trạng thái"] == "Đã nộp" and fields["Tỉnh/thành"] == "Quảng Ngãi"
        assert fields["Chi phí dự kiến"] == "350 triệu đồng"
        assert fields["Nội dung hỗ trợ"] != "machinery"  # the label, not the code
        changes = [(h.change, h.note, h.actor) for h in detail.history if h.kind == "status"]
        assert changes[-1] == ("Đã xác nhận (chưa nộp) → Đã nộp", "Đã nhận bản giấy", "web:canbo1")
        assert detail.history[-1].change == "đã nhắn chủ cơ sở"
        assert detail.next_statuses == [("under_review", "Đang xem xét")]
        name, content = await draft_document(session, draft_id, centre_name="Trung tâm KC")
        assert name.endswith(".docx") and "Nguyen Van An" in docx_text(content)
        message = await session.scalar(select(OutboxMessage).order_by(OutboxMessage.id.desc()))
        assert message.chat_id == "1001" and "Đã nhận bản giấy" in message.text
        audit = await session.scalar(select(AuditEntry).where(AuditEntry.actor == "web:canbo1"))
        assert audit.action == "draft.set_status" and audit.detail == "draft -> submitted"
        assert await draft_detail(session, 999_999) is None
        assert await draft_document(session, 999_999, centre_name="x") is None


async def test_status_errors_say_what_is_allowed(app):
    draft_id = await confirmed_draft(app)
    async with app.sessions() as session, session.begin():
        with pytest.raises(StatusError) as exc:
            await change_status(session, draft_id, "approved", actor="web:canbo1")
        assert exc.value.forceable and exc.value.field == "status"
        assert "«Đã nộp»" in str(exc.value) and "approved" not in str(exc.value)
        with pytest.raises(StatusError) as exc:
            await change_status(session, draft_id, "submitted", actor="x", note="a" * 1001)
        assert exc.value.field == "note" and "1.000" in str(exc.value)
        with pytest.raises(StatusError) as exc:
            await change_status(session, draft_id, "draft", actor="x")
        assert exc.value.code == 1 and "đã ở trạng thái" in str(exc.value)
    async with app.sessions() as session:
        [draft] = await DraftRepo(session).list()
        assert draft.status == "draft"  # nothing moved


async def test_export_sheet_is_what_staff_read(app):
    async with app.sessions() as session, session.begin():
        await add_draft(session, 1)
        await add_draft(session, 2, status="submitted", province=HA_NOI)
        # A name that would be a formula in Excel stays text (the page's XLSX helper makes
        # it safe; here: the value is passed through as typed).
        draft = await add_draft(session, 3)
        draft.facility_name = '=HYPERLINK("x")'
    async with app.sessions() as session:
        headers, rows = await export_sheet(session, DraftFilter(province_code=QUANG_NGAI))
    assert headers[:4] == ["Mã hồ sơ", "Trạng thái", "Nội dung hỗ trợ", "Tên cơ sở"]
    assert len(rows) == 2 and rows[0][1] == "Đã xác nhận (chưa nộp)"
    cost = headers.index("Chi phí dự kiến")
    assert rows[0][cost] == 100_000_001  # a number Excel can add up
    created = rows[0][headers.index("Tạo lúc")]
    assert isinstance(created, datetime) and created.tzinfo is None  # local time for Excel
