"""Composing an announcement from a form (the staff pages) or options (`kcbot broadcast`):
the filters by channel and role, errors by field, scheduling in local time, the history
with delivery reports. On SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta

import pytest

from db.repos.staff import user_channels
from handlers.staff import broadcast as B
from tests.auxil.app import app  # noqa: F401
from tests.auxil.staff import make_staff, owner_in
from tests.handlers.staff.test_broadcast import sender
from tests.test_outbox_support import FakeClock, RecordingSender, local

WINDOW = (time(0, 0), time(23, 59))


async def people(app) -> None:  # noqa: F811
    await owner_in(app, "3001", province="Quảng Ngãi")
    await owner_in(app, "3002", province="Quảng Ngãi", channel="zalo_oa")
    await owner_in(app, "3003", province="Hà Nội", channel="zalo_oa")
    await owner_in(app, "3004")
    await make_staff(app, "9001")


def test_form_errors_are_named_by_field():
    now = local(2026, 12, 1, 9, 0)
    with pytest.raises(B.ComposeError) as caught:
        B.read_compose(
            {
                "text": "Hi",
                "provinces": ["Xứ Sở Thần Tiên"],
                "sectors": ["luyện rồng"],
                "roles": ["vua"],
                "statuses": ["lost"],
                "button": "nothing",
                "at": "01/11/2026 08:00",
            },
            now,
        )
    errors = caught.value.errors
    assert sorted(errors) == ["at", "button", "provinces", "roles", "sectors", "statuses", "text"]
    assert errors["text"] == "Nội dung phải dài từ 5 đến 3500 ký tự."
    assert "Xứ Sở Thần Tiên" in errors["provinces"]
    assert "đã qua" in errors["at"]
    with pytest.raises(B.ComposeError) as caught:
        B.read_compose({"text": "Thông báo thử", "at": "ngày mai"}, now)
    assert "15/12/2026 08:00" in caught.value.errors["at"]
    with pytest.raises(B.ComposeError) as caught:
        B.read_compose({"text": "Thông báo thử", "when": "later", "at": ""}, now)
    assert caught.value.errors == {"at": "Chọn ngày giờ hẹn, hoặc chọn «Gửi ngay»."}


def test_a_good_form_reads_local_time_and_old_province_names():
    now = local(2026, 12, 1, 9, 0)
    compose = B.read_compose(
        {
            "text": "  Hội chợ mở đăng ký  ",
            "provinces": ["Kon Tum", "quang ngai"],  # one province since 2025
            "channels": ["telegram"],
            "roles": ["owner"],
            "subscribers": "1",
            "button": "intake",
            "at": "2026-12-15T08:00",  # what <input type=datetime-local> sends
        },
        now,
    )
    assert compose.text == "Hội chợ mở đăng ký"
    assert compose.at == datetime(2026, 12, 15, 1, 0, tzinfo=UTC)
    assert compose.audience.provinces == [51] and compose.audience.subscribers
    assert compose.audience.describe() == (
        "vai trò Chủ cơ sở; kênh telegram; người bật nhắc lịch; tỉnh Quảng Ngãi"
    )
    assert B.preview(compose.text, compose.button) == ("Hội chợ mở đăng ký", ["📝 Tạo hồ sơ"])
    assert B.read_compose({"text": "Gửi ngay bây giờ", "at": ""}, now).at is None


async def test_channel_and_role_filters_count_the_right_people(app):  # noqa: F811
    await people(app)
    async with app.sessions() as session:
        assert await user_channels(session) == ["telegram", "zalo_oa"]
        by_channel = await B.count_by_channel(session, B.parse_audience(channels=["zalo_oa"]))
        owners_qn = await B.count_by_channel(
            session, B.parse_audience(provinces=["Quảng Ngãi"], roles=["owner"])
        )
        staff = await B.count_by_channel(session, B.parse_audience(roles=["staff", "admin"]))
    assert by_channel == {"zalo_oa": 2}
    assert owners_qn == {"telegram": 1, "zalo_oa": 1}
    assert staff == {"telegram": 1}


async def test_history_pages_with_reports_and_scheduled_status(app):  # noqa: F811
    await people(app)
    now = datetime.now(UTC)
    async with app.sessions() as session, session.begin():
        for n in range(3):
            await B.create(
                session,
                text=f"Thông báo số {n}",
                audience=B.parse_audience(roles=["owner"]),
                actor="web:lan",
                now=now,
                window=WINDOW,
            )
        later = await B.create(
            session,
            text="Thông báo hẹn giờ",
            audience=B.Audience(),
            actor="web:lan",
            now=now,
            window=WINDOW,
            at=now + timedelta(days=2),
        )
    clock = FakeClock(now + timedelta(seconds=1))
    channels = {"telegram": RecordingSender(clock), "zalo_oa": RecordingSender(clock)}
    channels["zalo_oa"].fail = {"3003": [blocked()] * 3}
    await sender(app, channels, clock).drain()
    async with app.sessions() as session:
        first = await B.history(session, clock.now(), per_page=2)
        second = await B.history(session, clock.now(), page=2, per_page=2)
        one = await B.sent_one(session, later.broadcast.id, clock.now())
    assert (first.total, first.pages) == (4, 2)
    assert [s.broadcast.text for s in first.items] == ["Thông báo hẹn giờ", "Thông báo số 2"]
    assert first.items[0].status.startswith("hẹn gửi ")
    assert first.items[0].report["pending"] == 5 and first.items[0].done_percent == 0
    done = first.items[1]
    assert done.status == "đã gửi xong" and done.done_percent == 100
    assert (done.report["sent"], done.report["unreachable"]) == (3, 1)
    assert [s.broadcast.id for s in second.items] == [2, 1]
    assert one is not None and one.broadcast.id == later.broadcast.id


def blocked():
    from bot.channels import Outcome, SendResult

    return SendResult(Outcome.UNREACHABLE, reason="blocked")
