"""«Tổng quan»'s figures, from what users and staff did through the real engine and
services, on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from db.models.base import utcnow
from db.repos.core import UserRepo
from db.repos.events import SubscriptionRepo
from db.repos.faq import UnansweredRepo
from db.repos.handoff import LeadRepo
from db.repos.outbox import OutboxRepo
from handlers.intake.service import change_status
from handlers.staff.overview import CHART_DAYS, channel_label, overview
from knowledge.formats import local_day
from tests.auxil.app import ChatUser
from tests.test_cli_drafts import confirmed_draft


def lead(n: int, created: datetime) -> dict:
    return {
        "channel": "telegram",
        "chat_id": "5005",
        "collaborator": "CTV",
        "facility_name": f"Cơ sở {n}",
        "name_key": f"co so {n}",
        "owner_name": "Bà Lan",
        "phone": f"09880000{n:02d}",
        "province": "Quảng Ngãi",
        "province_code": 51,
        "commune": "Xã Nghĩa Hành",
        "commune_code": 1,
        "sector": "mây tre",
        "support": "machinery",
        "consent": True,
        "status": "new",
        "created_at": created,
        "updated_at": created,
    }


async def test_overview_counts_today_and_the_week(app):
    asker = ChatUser(app, chat_id="3003")
    await asker.send("ho tro may moc thiet bi duoc bao nhieu tien")  # answered
    await asker.send("ko co dkkd co dc ho tro k")  # answered
    await asker.send("giá vàng hôm nay bao nhiêu")  # not answered → staff queue
    draft_id = await confirmed_draft(app)
    now = utcnow()
    async with app.sessions() as session, session.begin():
        # Earlier days: a question 3 days ago (this week), one 10 days ago (chart only).
        for days in (3, 10):
            row = await UnansweredRepo(session).add("zalo_oa", "7007", f"câu hỏi {days} ngày")
            row.created_at = now - timedelta(days=days)
        leads = LeadRepo(session)
        await leads.add(**lead(1, now))
        await leads.add(**{**lead(2, now - timedelta(days=20)), "status": "contacted"})
        subscriber = await UserRepo(session).touch("zalo_oa", "7007", "7007", "Chị Hoa", "vi")
        await SubscriptionRepo(session).save(
            subscriber.id, kinds=[], province=None, sectors=[], now=now
        )
        await change_status(session, draft_id, "submitted", actor="web:canbo1")
        # The owner blocked the bot before the notice went: it failed.
        await OutboxRepo(session).fail_chat("telegram", "1001", now, "blocked")

    async with app.sessions() as session:
        seen = await overview(session, utcnow())
    assert (seen.today.asked, seen.today.answered, seen.today.unanswered) == (3, 2, 1)
    assert seen.today.to_staff == 1 and seen.open_tickets == 1
    assert (seen.week.asked, seen.week.unanswered) == (4, 2)
    drafts = {c.key: c.value for c in seen.drafts}
    assert drafts["submitted"] == 1 and drafts["draft"] == 0
    assert [c.key for c in seen.drafts][:3] == ["draft", "submitted", "under_review"]
    assert (seen.drafts_today, seen.drafts_week) == (1, 1)
    leads_now = {c.key: (c.label, c.value) for c in seen.leads}
    assert leads_now["new"] == ("mới", 1) and leads_now["contacted"] == ("đã liên hệ", 1)
    assert (seen.leads_today, seen.leads_week) == (1, 1)
    channels = {c.channel: (c.label, c.users, c.subscribers) for c in seen.channels}
    assert channels["telegram"] == ("Telegram", 2, 0)
    assert channels["zalo_oa"] == ("Zalo OA", 1, 1)
    assert seen.users_today == 3
    assert seen.outbox.failed == 1 and seen.outbox.due == 0
    # The chart: the last 14 local days, oldest first, today last.
    assert len(seen.days) == CHART_DAYS and seen.days[-1].day == local_day(utcnow())
    assert seen.days[-1].asked == 3 and seen.days[-1].answered == 2
    assert seen.days[-4].asked == 1 and seen.days[-11].asked == 1
    assert seen.max_asked == 3


async def test_an_outbox_nobody_sends_shows_as_stuck(app):
    draft_id = await confirmed_draft(app)
    async with app.sessions() as session, session.begin():
        await change_status(session, draft_id, "submitted", actor="web:canbo1")
    later = datetime.now(UTC) + timedelta(minutes=30)
    async with app.sessions() as session:
        seen = await overview(session, later)
    # The notice (and the intake's own replies nobody sent in this test) are due.
    assert seen.outbox.due >= 1 and seen.outbox.oldest_due_minutes >= 29
    assert seen.outbox.stuck


def test_channel_labels_without_a_list_of_channels():
    assert channel_label("zalo_bot") == "Zalo Bot"
    assert channel_label("web") == "Web"
