"""«Nhắc lịch & hội chợ» in the chat, through the engine, as the user sees it."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from db.repos.core import UserRepo
from db.repos.events import EventData, EventRepo, SubscriptionRepo
from tests.auxil.app import ChatUser


async def _events(app):
    now = datetime.now(UTC)
    async with app.sessions() as session, session.begin():
        repo = EventRepo(session)
        await repo.upsert(
            EventData(
                "Hội chợ CNNT khu vực", "trade_fair", now + timedelta(days=20), place="Hà Nội"
            ),
            now,
        )
        await repo.upsert(
            EventData(
                "Hạn nộp đề án Quảng Ngãi",
                "deadline",
                now + timedelta(days=5),
                provinces=["Quảng Ngãi"],
            ),
            now,
        )
        await repo.upsert(
            EventData(
                "Tập huấn ở Cà Mau", "training", now + timedelta(days=3), provinces=["Cà Mau"]
            ),
            now,
        )
        await repo.upsert(EventData("Hội nghị đã qua", "conference", now - timedelta(days=3)), now)


async def _subscription(app, chat_id="1001"):
    async with app.sessions() as session:
        user = await UserRepo(session).get("telegram", chat_id)
        return await SubscriptionRepo(session).get(user.id)


async def test_subscribe_in_a_few_taps_then_list_and_stop(app):
    await _events(app)
    user = ChatUser(app)
    await user.send("/start")
    await user.tap("Nhắc lịch")
    assert "chưa bật nhắc lịch" in user.text
    await user.tap("Bật nhắc lịch")
    assert "1/3" in user.text and all(label.startswith("☑️") for label in user.labels[:6])
    await user.tap("Tiếp")  # default: every kind
    assert "2/3" in user.text
    await user.send("quang ngai")  # typed without diacritics
    assert "3/3" in user.text
    await user.tap("Thủ công")
    assert any(label.startswith("☑️") and "Thủ công" in label for label in user.labels)
    await user.tap("Lưu")
    assert "✅ Đã bật nhắc lịch" in user.text
    assert "Quảng Ngãi" in user.text and "Thủ công mỹ nghệ" in user.text
    sub = await _subscription(app)
    assert sub.active and sub.kinds == [] and sub.province == "Quảng Ngãi"
    assert sub.sectors == ["craft"]

    await user.tap("Sự kiện sắp tới")
    text = user.text
    assert text.index("Hạn nộp đề án Quảng Ngãi") < text.index("Hội chợ CNNT khu vực")
    assert "Cà Mau" not in text and "đã qua" not in text

    await user.send("/stop_reminders")
    assert "Đã tắt nhắc lịch" in user.text
    assert not (await _subscription(app)).active
    await user.send("/stop_reminders")
    assert "chưa bật" in user.text


async def test_change_keeps_the_current_choices_and_unknown_province_is_explained(app):
    user = ChatUser(app, chat_id="1002")
    await user.send(payload="menu:reminders")
    await user.tap("Bật nhắc lịch")
    await user.tap("Hạn nộp")  # untick deadlines
    await user.tap("Tiếp")
    await user.send("Tỉnh Mặt Trăng")
    assert "chưa nhận ra tỉnh" in user.text and "2/3" in user.text
    await user.tap("Cả nước")
    await user.tap("Lưu")
    sub = await _subscription(app, "1002")
    assert "deadline" not in sub.kinds and sub.province is None and sub.sectors == []
    await user.send(payload="menu:reminders")
    assert "Bạn đang bật nhắc lịch" in user.text and "cả nước" in user.text
    await user.tap("Thay đổi")
    assert any(label.startswith("⬜") and "Hạn nộp" in label for label in user.labels)
    await user.tap("Tiếp")
    await user.send("Đắk Lắk")
    await user.tap("Lưu")
    assert (await _subscription(app, "1002")).province == "Đắk Lắk"
    await user.tap("Sự kiện sắp tới")
    assert "chưa có sự kiện" in user.text
    await user.send("/sukien")
    assert user.last
    await user.send(payload="reminders:stop")
    assert "Đã tắt" in user.text


async def test_stale_step_button_is_handled(app):
    user = ChatUser(app, chat_id="1003")
    await user.send(payload="reminders:kinds_ok")
    assert user.last and user.text


async def test_province_of_the_users_draft_is_offered_first(app):
    from db.repos.drafts import DraftRepo

    user = ChatUser(app)
    await user.send("/start")
    async with app.sessions() as session, session.begin():
        owner = await UserRepo(session).get("telegram", user.chat_id)
        repo = DraftRepo(session)
        draft = await repo.start(owner.id, "telegram", user.chat_id)
        repo.update(draft, {}, {"province": "Thành phố Đà Nẵng"})
    await user.tap("Nhắc lịch")
    await user.tap("Bật nhắc lịch")
    await user.tap("Tiếp")
    assert "📍 Đà Nẵng" in user.labels
