"""Collaborators' leads through the engine: saved, staff told, duplicates refused (by phone
and by a close name in the same commune), statuses shown, only for collaborators."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from db.models.handoff import Lead
from tests.auxil.app import ChatUser
from tests.auxil.handoff import queued_for, set_role
from tests.test_outbox_support import local

WORKING_MORNING = local(2026, 12, 8, 8, 0)  # a Tuesday


async def _user(app, chat_id: str, name: str, role: str) -> ChatUser:
    user = ChatUser(app, chat_id=chat_id, name=name)
    await user.send("/start")
    await set_role(app, user, role)
    return user


async def _leads(app) -> list[Lead]:
    async with app.sessions() as session:
        return list((await session.scalars(select(Lead).order_by(Lead.id))).all())


async def _register(ctv: ChatUser, name: str, phone: str, commune: str = "nghia hanh") -> None:
    await ctv.send(payload="leads:new")
    assert "Bước 1/9" in ctv.text
    await ctv.send(name)
    await ctv.send("Nguyen Van An")
    await ctv.send(phone)
    if "đã được giới thiệu" in ctv.text:
        return
    await ctv.send("quang ngai")
    await ctv.tap("Quảng Ngãi")
    await ctv.send(commune)
    await ctv.tap("Nghĩa Hành")


async def test_lead_saved_staff_told_duplicates_refused(app):
    staff = await _user(app, "911", "Lê Văn Cường", "staff")
    ctv = await _user(app, "811", "Đỗ Văn Hùng", "collaborator")

    await _register(ctv, "Cơ sở mộc Minh Phát", "0912 345 678")
    assert "Bước 6/9" in ctv.text
    await ctv.send("thu cong my nghe")
    await ctv.tap("Máy móc")
    await ctv.send("bo qua")
    await ctv.send("chưa hỏi")
    assert "đã đồng ý" in ctv.text and await _leads(app) == []  # refused without consent

    await _register(ctv, "Cơ sở mộc Minh Phát", "0912 345 678")
    await ctv.tap("Thủ công")
    await ctv.tap("Máy móc")
    await ctv.send("Chủ cơ sở rảnh buổi chiều")
    await ctv.tap("Đã đồng ý")
    assert "Xem lại" in ctv.text and "Xã Nghĩa Hành" in ctv.text
    await ctv.tap("Xác nhận")
    assert "Đã lưu cơ sở #" in ctv.text
    [lead] = await _leads(app)
    assert lead.phone == "0912345678" and lead.commune == "Xã Nghĩa Hành" and lead.consent
    # Staff hear of it in their digest (working hours, one message per 10 minutes).
    await app.engine.router.get("staff").tick(app.sessions, WORKING_MORNING)
    [notice] = await queued_for(app, staff.chat_id)
    assert "Minh Phát" in notice.text and "0912345678" in notice.text
    assert "Đỗ Văn Hùng" in notice.text

    # Same phone written another way: refused at once, nothing saved.
    await _register(ctv, "Mộc Minh Phát", "+84 912 345 678")
    assert "Cơ sở này đã được giới thiệu ngày" in ctv.text
    # Another phone, but the same name (no diacritics, «cơ sở» left out) in the commune.
    await _register(ctv, "moc minh phat", "0987 654 321")
    assert "Cơ sở này đã được giới thiệu ngày" in ctv.text
    assert len(await _leads(app)) == 1
    await app.engine.router.get("staff").tick(app.sessions, WORKING_MORNING + timedelta(hours=1))
    assert len(await queued_for(app, staff.chat_id)) == 1

    await ctv.send(payload="leads:mine")
    assert "Minh Phát" in ctv.text and "mới" in ctv.text
    await staff.send(payload="leads:list")
    assert "Cơ sở mới được giới thiệu (1)" in staff.text and "Minh Phát" in staff.text


async def test_only_collaborators_and_staff(app):
    owner = ChatUser(app, chat_id="812")
    await owner.send("/start")
    await owner.send(payload="leads:new")
    assert owner.text == "Mục này dành cho cộng tác viên khuyến công."
    await owner.send(payload="leads:list")
    assert owner.text == "Mục này dành cho cộng tác viên khuyến công."
