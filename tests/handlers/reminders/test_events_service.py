"""The events service the staff pages and `kcbot events` share, on SQLite and PostgreSQL:
list pages, add, edit (reminders follow), cancel (pending reminders stop), upload import."""

from __future__ import annotations

import io

import pytest
from openpyxl import Workbook
from sqlalchemy import select

from bot.outbox import OutboxConfig
from db.models.privacy import AuditEntry
from handlers.reminders import service
from handlers.reminders.events_import import UnreadableFile
from tests.handlers.reminders.test_scheduling import Bot
from tests.test_outbox_support import local, outbox_rows, sessions_for, subscribe

FAST = OutboxConfig(rate=0, per_chat_seconds=0)
ACTOR = "web:lan"


@pytest.fixture
async def db(db_url):
    engine, sessions = sessions_for(db_url)
    yield sessions
    await engine.dispose()


def form(**values: str) -> dict[str, str]:
    base = {"title": "Hội chợ hàng CNNT phía Nam", "kind": "hội chợ", "start": "16/05/2026"}
    base.update(values)
    return base


async def add(db, now, **values):
    async with db() as session, session.begin():
        event, outcome = await service.add_event(
            session, service.read_form(form(**values)), actor=ACTOR, now=now
        )
        return event.id, outcome


async def audit(db) -> list[tuple[str, str, str | None]]:
    async with db() as session:
        rows = await session.scalars(select(AuditEntry).order_by(AuditEntry.id))
        return [(r.actor, r.action, r.subject) for r in rows]


def test_a_form_with_several_mistakes_names_each_field():
    with pytest.raises(service.EventInvalid) as caught:
        service.read_form(
            {"title": "", "kind": "liên hoan", "start": "31/02/2026", "end": "hôm sau"}
        )
    errors = caught.value.errors
    assert sorted(errors) == ["end", "kind", "start", "title"]
    assert "thiếu tiêu đề" in errors["title"]
    assert "liên hoan" in errors["kind"]
    assert "«31/02/2026» không đúng" in errors["start"]
    with pytest.raises(service.EventInvalid) as caught:
        service.read_form(form(start="20/05/2026", end="18/05/2026"))
    assert caught.value.errors == {"end": "ngày kết thúc trước ngày bắt đầu"}


async def test_list_pages_upcoming_past_and_cancelled(db):
    now = local(2026, 5, 10, 9, 0)
    for day in range(1, 26):  # 1..25 May: 9 over, «today» (10th) and 15 ahead
        await add(db, now, title=f"Tập huấn số {day}", kind="tập huấn", start=f"{day:02d}/05/2026")
    await add(db, now, title="Hội chợ dài ngày", start="01/05/2026", end="12/05/2026")
    cancelled, _ = await add(db, now, title="Hội nghị bị hoãn", kind="hội nghị", start="20/05/2026")
    async with db() as session, session.begin():
        await service.cancel_event(session, cancelled, actor=ACTOR, now=now)
    async with db() as session:
        first = await service.list_events(session, now, per_page=10)
        second = await service.list_events(session, now, page=2, per_page=10)
        past = await service.list_events(session, now, status="past", per_page=50)
        gone = await service.list_events(session, now, status="cancelled")
        fairs = await service.list_events(session, now, kind="trade_fair")
        everything = await service.list_events(session, now, status="all", per_page=5)
    assert (first.total, first.pages) == (17, 2)  # 16 courses from the 10th, the long fair
    assert [e.title for e in first.items[:2]] == ["Hội chợ dài ngày", "Tập huấn số 10"]
    assert len(second.items) == 7 and second.items[-1].title == "Tập huấn số 25"
    assert past.total == 9 and past.items[0].title == "Tập huấn số 9"  # latest first
    assert [e.title for e in gone.items] == ["Hội nghị bị hoãn"]
    assert [e.title for e in fairs.items] == ["Hội chợ dài ngày"]
    assert (everything.total, everything.pages, len(everything.items)) == (27, 6, 5)


async def test_edit_moves_the_queued_reminders_and_is_audited(db):
    await subscribe(db, "1")
    now = local(2026, 5, 1, 9, 0)
    event_id, outcome = await add(db, now, start="10/05/2026", place="Nhà Văn hóa cũ")
    assert outcome == "created"
    bot = Bot(db)
    await bot.run_due(local(2026, 5, 3, 8, 0))  # the 7-day reminder
    assert "Nhà Văn hóa cũ" in bot.to("1")[0]
    async with db() as session, session.begin():
        event, changed = await service.edit_event(
            session,
            event_id,
            service.read_form(form(start="16/05/2026 08:30", place="Cung Văn hóa mới")),
            actor=ACTOR,
            now=local(2026, 5, 4, 9, 0),
        ) or (None, False)
    assert changed and event is not None and event.id == event_id
    await bot.run_due(local(2026, 5, 9, 8, 0))  # the old date's 1-day moment: nothing
    assert len(bot.to("1")) == 1
    await bot.run_due(local(2026, 5, 15, 8, 0))  # the new date's 1-day reminder
    assert len(bot.to("1")) == 2
    assert "Cung Văn hóa mới" in bot.to("1")[-1] and "08:30" in bot.to("1")[-1]
    async with db() as session:
        assert service.form_values(await session.get(type(event), event_id))["start"] == (
            "16/05/2026 08:30"
        )
    assert (ACTOR, "event.edit", f"event:{event_id}") in await audit(db)


async def test_edit_to_the_same_title_kind_and_day_as_another_is_refused(db):
    now = local(2026, 5, 1, 9, 0)
    first, _ = await add(db, now, title="Hội chợ A")
    second, _ = await add(db, now, title="Hội chợ B")
    async with db() as session, session.begin():
        with pytest.raises(service.EventInvalid) as caught:
            await service.edit_event(
                session, second, service.read_form(form(title="hội chợ a")), actor=ACTOR, now=now
            )
        assert caught.value.errors == {
            "title": f"đã có sự kiện #{first} cùng tên, loại và ngày bắt đầu"
        }
        nothing = await service.edit_event(
            session, 999, service.read_form(form()), actor=ACTOR, now=now
        )
        assert nothing is None


async def test_cancel_stops_pending_reminders_and_tells_those_reminded(db):
    await subscribe(db, "1")
    now = local(2026, 5, 1, 9, 0)
    event_id, _ = await add(db, now, start="16/05/2026")
    bot = Bot(db)
    await bot.run_due(local(2026, 5, 9, 8, 0))
    await subscribe(db, "2")
    async with db() as session, session.begin():
        from handlers.reminders.scheduling import enqueue_due

        await enqueue_due(session, local(2026, 5, 15, 8, 0))  # 1-day reminders queued
        result = await service.cancel_event(
            session, event_id, actor=ACTOR, now=local(2026, 5, 15, 7, 30)
        )
    assert result is not None and (result.dropped, result.notified) == (2, 1)
    async with db() as session, session.begin():
        again = await service.cancel_event(session, event_id, actor=ACTOR, now=now)
    assert again is not None and again.already
    await bot.run_due(local(2026, 5, 15, 8, 1))
    assert len(bot.to("1")) == 2 and "đã bị HỦY" in bot.to("1")[1]
    assert bot.to("2") == []
    statuses = {r.campaign: r.status for r in await outbox_rows(db) if r.chat_id == "2"}
    assert set(statuses.values()) == {"cancelled"}
    assert [a for a in await audit(db) if a[1] == "event.cancel"] == [
        (ACTOR, "event.cancel", f"event:{event_id}")
    ]


async def test_upload_of_xlsx_reports_bad_rows_by_number(db):
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.append(["Tiêu đề", "Loại", "Bắt đầu", "Tỉnh"])
    sheet.append(["Hạn nộp đề án 2027", "hạn nộp", "20/06/2026", "Quảng Ngãi; Gia Lai"])
    sheet.append(["", "hạn nộp", "20/06/2026", ""])
    sheet.append(["Tập huấn", "tập huấn", "32/06/2026", ""])
    buffer = io.BytesIO()
    book.save(buffer)
    async with db() as session, session.begin():
        report = await service.import_upload(
            session, "su-kien.xlsx", buffer.getvalue(), actor=ACTOR, now=local(2026, 5, 1)
        )
    assert (report.created, [n for n, _ in report.errors]) == (1, [3, 4])
    assert service.import_summary(report) == ("Thêm mới 1, cập nhật 0, không đổi 0, lỗi 2 dòng.")
    assert (ACTOR, "event.import", "su-kien.xlsx") in await audit(db)
    async with db() as session:
        page = await service.list_events(session, local(2026, 5, 1))
    assert page.items[0].provinces == ["Quảng Ngãi", "Gia Lai"]


async def test_an_unreadable_or_huge_upload_says_what_to_do(db):
    async with db() as session, session.begin():
        with pytest.raises(UnreadableFile, match="không phải bảng tính XLSX"):
            await service.import_upload(
                session, "a.xlsx", b"PK\x03\x04 junk", actor=ACTOR, now=local(2026, 5, 1)
            )
        with pytest.raises(UnreadableFile, match="CSV UTF-8"):
            await service.import_upload(
                session, "a.csv", "tiêu đề".encode("utf-16"), actor=ACTOR, now=local(2026, 5, 1)
            )
        with pytest.raises(UnreadableFile, match="lớn quá 1 MB"):
            await service.import_upload(
                session, "a.csv", b"x" * (3 * 1024 * 1024), actor=ACTOR, now=local(2026, 5, 1)
            )


async def test_reopen_brings_back_the_reminders_the_cancellation_stopped(db):
    await subscribe(db, "1")
    event_id, _ = await add(db, local(2026, 5, 1, 9, 0), start="16/05/2026")
    async with db() as session, session.begin():
        from handlers.reminders.scheduling import enqueue_due

        assert await enqueue_due(session, local(2026, 5, 9, 8, 0)) == 1  # 7-day, not sent yet
        cancelled = await service.cancel_event(
            session, event_id, actor=ACTOR, now=local(2026, 5, 9, 8, 0, 30)
        )
        assert cancelled is not None and cancelled.dropped == 1
        assert await service.reopen_event(session, 999, actor=ACTOR, now=local(2026, 5, 9)) is None
        reopened = await service.reopen_event(
            session, event_id, actor=ACTOR, now=local(2026, 5, 9, 8, 1)
        )
    assert reopened is not None and not reopened[0].cancelled and reopened[1] == 1
    bot = Bot(db)
    await bot.run_due(local(2026, 5, 9, 8, 2))
    assert len(bot.to("1")) == 1 and "Còn 7 ngày" in bot.to("1")[0]
    assert (ACTOR, "event.reopen", f"event:{event_id}") in await audit(db)
    async with db() as session:
        page = await service.list_events(session, local(2026, 5, 9))
    assert [e.id for e in page.items] == [event_id]
