"""Announcements: composed in a staff chat, sent through the outbox, reported, cancelled."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta

import pytest

from bot.channels import Outcome, SendResult
from bot.outbox import OutboxConfig, OutboxSender
from db.repos.staff import BroadcastRepo
from handlers.staff import broadcast as B
from tests.auxil.app import ChatUser, app  # noqa: F401
from tests.auxil.staff import make_staff, owner_in
from tests.test_outbox_support import Crash, FakeClock, RecordingSender, attempts, outbox_rows

FLOOD = SendResult(Outcome.RATE_LIMITED, retry_after=3)
WINDOW = (time(0, 0), time(23, 59))


async def people(app) -> None:  # noqa: F811
    """Five owners in Quảng Ngãi (one by the old name Kon Tum, one by a draft), three
    elsewhere."""
    await owner_in(app, "3001", province="Quảng Ngãi")
    await owner_in(app, "3002", province="Kon Tum")
    await owner_in(app, "3003", draft_province_code=51)
    await owner_in(app, "3004", province="Quảng Ngãi", channel="zalo")
    await owner_in(app, "3005", province="quang ngai")
    await owner_in(app, "3101", province="Hà Nội")
    await owner_in(app, "3102", draft_province_code=48)
    await owner_in(app, "3103")


def sender(app, channel, clock, **config):  # noqa: F811
    values = {"rate": 0, "per_chat_seconds": 0, "concurrency": 1, "lease_seconds": 60}
    values.update(config)
    return OutboxSender(app.sessions, channel, config=OutboxConfig(**values), clock=clock)


async def report(app, broadcast_id: int) -> dict[str, int]:  # noqa: F811
    async with app.sessions() as session:
        return await BroadcastRepo(session).report(broadcast_id)


async def send_at(app, broadcast_id: int) -> datetime:  # noqa: F811
    async with app.sessions() as session:
        b = await BroadcastRepo(session).get(broadcast_id)
        assert b is not None
        return b.send_at


async def compose_to_quang_ngai(staff: ChatUser) -> None:
    await staff.send("/thongbao")
    assert "nội dung thông báo" in staff.text
    await staff.send("Hội chợ hàng CNNT tiêu biểu mở đăng ký đến 20/12. Cơ sở nào muốn tham gia?")
    await staff.tap("Tạo hồ sơ")
    await staff.send("kon tum")  # the old name: Quảng Ngãi since 2025
    assert "👥 Hiện có 5 người nhận (telegram: 4, zalo: 1)" in staff.text
    await staff.tap("Tiếp")  # every sector
    await staff.tap("Tiếp")  # every kind
    await staff.tap("Mọi người")
    await staff.tap("Gửi ngay")


async def test_announcement_to_one_province_reaches_exactly_the_users_there_once(app):  # noqa: F811
    await people(app)
    await make_staff(app, "9001")
    staff = ChatUser(app, "9001", name="Lê Cán Bộ")
    await compose_to_quang_ngai(staff)
    # the preview is the message itself, with its button; then the count per channel
    preview = staff.last[0]
    assert preview.text.startswith("Hội chợ hàng CNNT tiêu biểu")
    assert [b.label for b in preview.all_buttons()] == ["📝 Tạo hồ sơ"]
    assert "5 người nhận (telegram: 4, zalo: 1)" in staff.text
    await staff.tap("Gửi thông báo")
    assert "Đã xếp hàng thông báo #1 cho 5 người nhận" in staff.text

    clock = FakeClock(await send_at(app, 1))  # within the send window (07:00–21:00)
    # the first sender dies after two 429s and two messages (a restart)
    tg = RecordingSender(clock, fail={"3001": [FLOOD], "3002": [FLOOD]}, crash_after=5)
    zalo = RecordingSender(
        clock, fail={"3004": [SendResult(Outcome.UNREACHABLE, reason="outside_window")]}
    )
    first = sender(app, {"telegram": tg, "zalo": zalo}, clock)
    with pytest.raises(Crash):
        await first.drain()
    clock.advance(seconds=61)
    tg2 = RecordingSender(clock)
    second = sender(app, {"telegram": tg2, "zalo": zalo}, clock)
    await second.drain()
    delivered = sorted(c for c, _, _ in tg.delivered + tg2.delivered)
    assert delivered == ["3001", "3002", "3003", "3005"]  # each once, nobody else
    assert zalo.delivered == []
    got = await report(app, 1)
    assert got == {
        "total": 5,
        "sent": 4,
        "failed": 0,
        "unreachable": 0,
        "outside_window": 1,
        "pending": 0,
        "cancelled": 0,
    }
    rows = [r for r in await outbox_rows(app.sessions) if r.campaign == "bc:1"]
    floods = [
        a for r in rows for a in await attempts(app.sessions, r.id) if a.outcome == "rate_limited"
    ]
    assert len(floods) == 2
    # progress and the final report go to the staff chat that sent it
    feature = app.engine.router.get("staff")
    await feature.tick(app.sessions, clock.now())
    notes = [r for r in await outbox_rows(app.sessions) if r.campaign.startswith("bcp:1:")]
    assert [(r.chat_id, r.campaign) for r in notes] == [("9001", "bcp:1:4")]
    assert "Đã gửi: 4" in notes[0].text and "Ngoài 7 ngày của Zalo: 1" in notes[0].text
    await staff.send(payload="staff:report:1")
    assert "đã gửi xong" in staff.text


async def test_cancel_mid_way_stops_what_is_unsent(app):  # noqa: F811
    await people(app)
    await make_staff(app, "9001")
    now = datetime.now(UTC)
    async with app.sessions() as session, session.begin():
        queued = await B.create(
            session,
            text="Thông báo thử",
            audience=B.Audience(provinces=[51]),
            actor="staff:telegram:9001",
            now=now,
            window=WINDOW,
            report_to=("telegram", "9001"),
        )
    assert queued.count == 5
    clock = FakeClock(now)
    tg = RecordingSender(clock)
    zalo = RecordingSender(clock)
    await sender(app, {"telegram": tg, "zalo": zalo}, clock, batch=2).drain(max_batches=1)
    assert len(tg.delivered + zalo.delivered) == 2
    feature = app.engine.router.get("staff")
    await feature.tick(app.sessions, now)  # 2 of 5: the 25% note, with «Dừng gửi»
    staff = ChatUser(app, "9001")
    await staff.send(payload=f"staff:cancel:{queued.broadcast.id}")
    assert "3 tin chưa gửi được hủy" in staff.text
    await sender(app, {"telegram": tg, "zalo": zalo}, clock).drain()
    announced = [c for c, text, _ in tg.delivered + zalo.delivered if text == "Thông báo thử"]
    assert len(announced) == 2
    assert [c for c, text, _ in tg.delivered if "25%" in text] == ["9001"]
    got = await report(app, queued.broadcast.id)
    assert (got["sent"], got["cancelled"], got["pending"]) == (2, 3, 0)
    notes = [r.campaign for r in await outbox_rows(app.sessions) if r.campaign.startswith("bcp:")]
    assert notes == [f"bcp:{queued.broadcast.id}:1"]


async def test_schedule_is_kept_inside_the_send_window(app):  # noqa: F811
    await people(app)
    late = datetime(2026, 12, 10, 15, 30, tzinfo=UTC)  # 22:30 in Vietnam
    async with app.sessions() as session, session.begin():
        queued = await B.create(
            session,
            text="Thông báo tối",
            audience=B.Audience(),
            actor="os:test",
            now=late - timedelta(days=1),
            window=(time(7, 0), time(21, 0)),
            at=late,
        )
    assert queued.send_at == datetime(2026, 12, 11, 0, 0, tzinfo=UTC)  # 07:00 next day
    assert queued.count == 8


def test_what_cannot_go_before_the_window_closes_waits_for_the_morning():
    start = datetime(2026, 12, 10, 13, 59, tzinfo=UTC)  # 20:59 in Vietnam
    moments = B.spread(start, 3000, 30.0, (time(7, 0), time(21, 0)))
    assert moments[:1800] == [start] * 1800  # one minute at 30 a second
    assert set(moments[1800:]) == {datetime(2026, 12, 11, 0, 0, tzinfo=UTC)}  # 07:00
    assert B.spread(start, 5, 0, (time(7, 0), time(21, 0))) == [start] * 5
