"""The leads service behind ``kcbot leads`` and the leads page, on SQLite and PostgreSQL:
filters, pages, duplicates marked, drafts linked, status changes with a note."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select

from db.models.drafts import Draft
from db.models.handoff import Lead, LeadEvent
from db.models.privacy import AuditEntry
from db.repos.core import UserRepo
from db.repos.privacy import RetentionRepo
from handlers.leads.service import (
    LeadError,
    LeadFilter,
    change_status,
    collaborators,
    detail,
    export_row,
    list_page,
    matching,
    parse_filter,
)
from tests.auxil.leads import DA_NANG, HOA_VANG, QUANG_NGAI, add_lead, collaborator

NOW = datetime(2026, 12, 8, 3, 0, tzinfo=UTC)  # 10:00 in Việt Nam


async def test_filters_by_status_province_collaborator_and_local_days(app):
    async with app.sessions() as session, session.begin():
        hung = await collaborator(session, "811", "Đỗ Văn Hùng")
        await collaborator(session, "822", "Trần Thị Lan")
        # 7/12 23:30 in Việt Nam is 16:30 UTC: it belongs to the 7th, not the 8th.
        await add_lead(
            session, "Mộc Minh Phát", "0912345678", created_at=NOW - timedelta(hours=10, minutes=30)
        )
        await add_lead(session, "Gốm Bàu Trúc", "0912000001", status="contacted", created_at=NOW)
        await add_lead(
            session,
            "Mây tre Hòa Vang",
            "0912000002",
            chat_id="822",
            collaborator="Trần Thị Lan",
            province_code=DA_NANG,
            commune_code=HOA_VANG,
            created_at=NOW,
        )

    async def names(flt: LeadFilter) -> list[str]:
        async with app.sessions() as session, session.begin():
            page = await list_page(session, flt)
            return [item.lead.facility_name for item in page.items]

    assert await names(LeadFilter()) == ["Mây tre Hòa Vang", "Gốm Bàu Trúc", "Mộc Minh Phát"]
    assert await names(LeadFilter(status="contacted")) == ["Gốm Bàu Trúc"]
    assert await names(LeadFilter(province_code=DA_NANG)) == ["Mây tre Hòa Vang"]
    assert await names(LeadFilter(collaborator=hung)) == ["Gốm Bàu Trúc", "Mộc Minh Phát"]
    day7 = NOW.date() - timedelta(days=1)
    assert await names(LeadFilter(since=day7, until=day7)) == ["Mộc Minh Phát"]
    assert await names(LeadFilter(since=NOW.date())) == ["Mây tre Hòa Vang", "Gốm Bàu Trúc"]
    async with app.sessions() as session:
        shown = dict(await collaborators(session))
    assert shown[hung] == "Đỗ Văn Hùng (2)" and len(shown) == 2


def test_filter_read_from_text_says_what_is_wrong():
    flt, errors = parse_filter(status="contacted", province="quang ngai", since="7/12/2026")
    assert errors == {}
    assert flt == LeadFilter(
        status="contacted", province_code=QUANG_NGAI, since=datetime(2026, 12, 7).date()
    )
    assert flt.query() == {
        "status": "contacted",
        "province": str(QUANG_NGAI),
        "since": "2026-12-07",
    }
    _, errors = parse_filter(
        status="bogus",
        province="Atlantis",
        collaborator="Hùng",
        since="32/13/2026",
        until="1/1/2026",
    )
    assert set(errors) == {"status", "province", "collaborator", "since"}
    assert "đã liên hệ" in errors["status"] and "Ví dụ" in errors["since"]
    _, errors = parse_filter(since="2026-12-08", until="2026-12-01")
    assert errors == {"until": "«Đến ngày» phải sau «Từ ngày»."}


async def test_duplicates_marked_by_phone_or_close_name_in_the_same_commune(app):
    async with app.sessions() as session, session.begin():
        first = await add_lead(session, "Cơ sở mộc Minh Phát", "0912345678")
        same_phone = await add_lead(session, "Xưởng gỗ khác tên", "0912345678")
        close_name = await add_lead(session, "Mộc Minh Phát", "0988000111")
        elsewhere = await add_lead(
            session, "Mộc Minh Phát", "0988000222", province_code=DA_NANG, commune_code=HOA_VANG
        )
        other = await add_lead(session, "Gốm Bàu Trúc", "0988000333")
    async with app.sessions() as session, session.begin():
        marks = {i.lead.id: i.duplicates for i in (await list_page(session, LeadFilter())).items}
    assert marks[first.id] == (same_phone.id, close_name.id)
    assert marks[same_phone.id] == (first.id,)
    assert marks[close_name.id] == (first.id,)
    assert marks[elsewhere.id] == () and marks[other.id] == ()
    async with app.sessions() as session, session.begin():
        row = export_row((await matching(session))[0])
    assert (
        row[0] == first.id and row[1] == "mới" and row[-1] == f"#{same_phone.id}, #{close_name.id}"
    )
    assert row[7] == "Thủ công mỹ nghệ" and row[8] == "Máy móc, thiết bị tiên tiến"


async def test_pages_of_fifty_newest_first(app):
    async with app.sessions() as session, session.begin():
        for n in range(120):
            await add_lead(session, f"Cơ sở số {n}", f"09120{n:05d}")
    async with app.sessions() as session, session.begin():
        first = await list_page(session, LeadFilter(), page=1)
        last = await list_page(session, LeadFilter(), page=3)
        beyond = await list_page(session, LeadFilter(), page=99)
    assert (first.total, first.pages, len(first.items)) == (120, 3, 50)
    assert first.items[0].lead.facility_name == "Cơ sở số 119"
    assert len(last.items) == 20 and last.items[-1].lead.facility_name == "Cơ sở số 0"
    assert beyond.page == 3


async def test_lead_on_a_confirmed_draft_is_linked_and_marked_applied(app):
    async with app.sessions() as session, session.begin():
        lead = await add_lead(session, "Mộc Minh Phát", "0912345678")
        owner = await UserRepo(session).touch("telegram", "601", "601", "Chủ", "vi")
        session.add(
            Draft(
                user_id=owner.id,
                channel="telegram",
                chat_id="601",
                status="draft",
                phone="0912345678",
                confirmed_at=NOW,
                created_at=NOW,
                updated_at=NOW,
            )
        )
    async with app.sessions() as session, session.begin():
        found = await detail(session, lead.id)
    assert found is not None
    assert found.item.lead.status == "applied" and found.item.lead.draft_id is not None
    assert found.item.status_label == "đã nộp hồ sơ"


async def test_status_change_keeps_the_note_in_history_and_audits_without_it(app):
    async with app.sessions() as session, session.begin():
        lead = await add_lead(session, "Mộc Minh Phát", "0912345678")
    async with app.sessions() as session, session.begin():
        changed, old = await change_status(
            session,
            lead.id,
            "contacted",
            actor="staff:telegram:911",
            note="  Hẹn  thứ Hai ",
            now=NOW,
        )
    assert (changed.status, old) == ("contacted", "new")
    async with app.sessions() as session, session.begin():
        # The same status again is refused, unless there is a note to add.
        with pytest.raises(LeadError, match="đã ở trạng thái «đã liên hệ»") as same:
            await change_status(session, lead.id, "contacted", actor="x", now=NOW)
        assert same.value.code == 1
        await change_status(session, lead.id, "contacted", actor="x", note="Gọi lại", now=NOW)
        for bad, field in (("bogus", "status"), ("new", "note")):
            with pytest.raises(LeadError) as error:
                await change_status(session, lead.id, bad, actor="x", note="x" * 1001, now=NOW)
            assert error.value.field == field
        with pytest.raises(LeadError, match="Không có cơ sở #999"):
            await change_status(session, 999, "new", actor="x", now=NOW)
    async with app.sessions() as session, session.begin():
        found = await detail(session, lead.id)
        audit = (
            await session.scalars(select(AuditEntry).where(AuditEntry.action == "lead.set_status"))
        ).all()
    assert found is not None
    assert [(e.from_status, e.to_status, e.note, e.actor) for e in found.history] == [
        ("new", "contacted", "Hẹn thứ Hai", "staff:telegram:911"),
        ("contacted", "contacted", "Gọi lại", "x"),
    ]
    assert [(a.actor, a.subject, a.detail) for a in audit] == [
        ("staff:telegram:911", f"lead:{lead.id}", "new -> contacted"),
        ("x", f"lead:{lead.id}", "contacted -> contacted"),
    ]


async def test_history_goes_with_the_lead_when_it_is_pruned(app):
    async with app.sessions() as session, session.begin():
        lead = await add_lead(
            session, "Mộc Minh Phát", "0912345678", created_at=NOW - timedelta(days=400)
        )
        await change_status(
            session,
            lead.id,
            "ineligible",
            actor="x",
            note="Ngoài địa bàn",
            now=NOW - timedelta(days=400),
        )
    async with app.sessions() as session, session.begin():
        assert await RetentionRepo(session).leads(NOW - timedelta(days=365), dry_run=False) == 1
    async with app.sessions() as session:
        assert await session.scalar(select(func.count()).select_from(LeadEvent)) == 0
        assert await session.scalar(select(func.count()).select_from(Lead)) == 0
