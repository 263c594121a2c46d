"""Roles and invite codes, through the engine."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from db.repos.privacy import AuditRepo
from db.repos.staff import BroadcastRepo, RoleRepo
from tests.auxil.app import ChatUser, app  # noqa: F401
from tests.auxil.staff import invite


async def role(app, chat_id: str) -> str:  # noqa: F811
    async with app.sessions() as session:
        return await RoleRepo(session).role_of("telegram", chat_id)


async def test_invite_code_turns_a_user_into_staff_and_a_used_code_is_refused(app):  # noqa: F811
    code = await invite(app, "staff")
    an = ChatUser(app, "2001")
    await an.send(f"/start {code}")
    assert "Bạn đã được cấp quyền cán bộ Trung tâm" in an.text
    assert "📣 Gửi thông báo" in an.labels
    assert await role(app, "2001") == "staff"
    await an.send("/menu")
    assert "Menu cán bộ" in an.text
    assert any(label.startswith("📝 Hồ sơ mới (") for label in an.labels)
    assert any(label.startswith("🙋 Câu hỏi chờ trả lời") for label in an.labels)

    binh = ChatUser(app, "2002", name="Trần Bình")
    await binh.send(f"/start {code}")
    assert "đã được dùng rồi" in binh.text
    assert await role(app, "2002") == "owner"
    async with app.sessions() as session:
        actions = [e.action for e in await AuditRepo(session).list()]
    assert "role.invite_used" in actions


async def test_expired_code_and_a_code_typed_alone(app):  # noqa: F811
    old = await invite(app, "staff", hours=1, now=datetime.now(UTC) - timedelta(hours=2))
    user = ChatUser(app, "2003")
    await user.send(f"/start {old}")
    assert "đã hết hạn" in user.text
    assert await role(app, "2003") == "owner"
    # on Zalo there are no deep links: the code alone, typed in lower case, is enough
    code = await invite(app, "collaborator")
    await user.send(code.lower())
    assert "cộng tác viên khuyến công" in user.text
    await user.send("/menu")
    assert "➕ Giới thiệu cơ sở" in user.labels
    assert "📝 Tạo hồ sơ đề nghị hỗ trợ" in user.labels


async def test_an_owner_cannot_broadcast(app):  # noqa: F811
    owner = ChatUser(app, "2004")
    await owner.send("/thongbao")
    assert owner.text == "Xin lỗi, việc này chỉ dành cho cán bộ Trung tâm."
    await owner.send(payload="staff:bc")
    assert owner.text == "Xin lỗi, việc này chỉ dành cho cán bộ Trung tâm."
    # nor by tapping a form button of the announcement dialogue
    await owner.send(payload="staff:confirm")
    assert "cũ" in owner.text
    async with app.sessions() as session:
        assert await BroadcastRepo(session).list() == []
    await owner.send("/menu")
    assert "📣 Gửi thông báo" not in owner.labels
