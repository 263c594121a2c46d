"""Consent before personal data is kept; /dulieu, /xoadulieu, /rutdongy in the chat."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from sqlalchemy import func, select

from bot.app import App, build_features
from bot.engine import Engine
from bot.types import Reply
from db.models.core import User
from db.models.drafts import Draft, DraftEvent
from db.models.events import OutboxMessage, Subscription
from db.models.faq import UnansweredQuestion
from db.models.privacy import AuditEntry, Consent
from db.repos.drafts import DraftRepo
from db.repos.events import SubscriptionRepo
from db.repos.faq import UnansweredRepo
from handlers.base import Context, Feature, Router
from handlers.privacy import NOTICE_VERSION, has_consent, require_consent
from tests.auxil.app import ChatUser
from tests.auxil.intake import fill_until_summary


class GatedFeature(Feature):
    """A tiny feature that keeps a phone number, behind the consent gate."""

    name = "demo"

    async def on_button(self, ctx: Context, action: str, arg: str) -> list[Reply]:
        if action != "open":
            return await ctx.router.stale_button(ctx)
        gate = await require_consent(ctx, "demo:open")
        if gate is not None:
            return gate
        assert await has_consent(ctx)
        user = await ctx.session.get(User, ctx.user.id)
        assert user is not None
        user.phone = "0912345678"
        return [Reply("Bắt đầu làm hồ sơ thử.")]


@pytest.fixture
async def gated(app: App) -> AsyncIterator[App]:
    """The real app with the demo feature added to its router."""
    router = Router([*build_features(app.services), GatedFeature()])
    app.engine = Engine(app.sessions, router, app.services)
    yield app


async def _count(app: App, model: type, *where) -> int:
    async with app.sessions() as session:
        return int(await session.scalar(select(func.count()).select_from(model).where(*where)))


async def test_consent_gate(gated: App):
    user = ChatUser(gated)
    await user.send(payload="demo:open")
    notice = user.text
    assert "Trung tâm Khuyến công tỉnh Thử Nghiệm" in notice  # who holds the data
    assert "số điện thoại" in notice and "hồ sơ đề nghị hỗ trợ" in notice  # what, why
    assert f"{gated.settings.retention_draft_days} ngày" in notice  # how long
    for command in ("/dulieu", "/xoadulieu", "/rutdongy"):  # the person's rights
        assert command in notice
    assert user.labels[:2] == ["Đồng ý", "Không đồng ý"]
    assert await _count(gated, Consent) == 0

    # Refused: nothing personal is kept; the FAQ and reminders still work.
    await user.send(payload=user.payloads[1])
    assert "không lưu thông tin cá nhân" in user.text
    async with gated.sessions() as session:
        me = await session.scalar(select(User).where(User.chat_id == "1001"))
        assert me is not None and me.phone is None
    assert await _count(gated, Consent) == 0
    await user.send("hỗ trợ máy móc thiết bị được bao nhiêu tiền?")
    assert "trục trặc" not in user.text and len(user.text) > 40
    await user.send(payload="menu:reminders")
    assert "Nhắc lịch" in user.text

    # Agreed: recorded with the notice's version, then the feature goes on.
    await user.send(payload="demo:open")
    await user.send(payload=user.payloads[0])
    assert "đồng ý lúc" in user.text and "Bắt đầu làm hồ sơ thử." in user.text
    async with gated.sessions() as session:
        [consent] = (await session.scalars(select(Consent))).all()
        assert consent.version == NOTICE_VERSION and consent.agreed
        assert consent.withdrawn_at is None and consent.at is not None
        me = await session.scalar(select(User).where(User.chat_id == "1001"))
        assert me is not None and me.phone == "0912345678"
    # Asked once: the next time goes straight in; a stale «Đồng ý» records nothing new.
    await user.send(payload="demo:open")
    assert user.text == "Bắt đầu làm hồ sơ thử."
    await user.send(payload="privacy:yes:demo:open")
    assert user.text == "Bắt đầu làm hồ sơ thử."
    assert await _count(gated, Consent) == 1

    # Withdrawn: processing stops, deletion is offered, the notice comes back.
    await user.send("/rutdongy")
    assert "Đã rút đồng ý" in user.text and "xoá" in user.text
    assert "privacy:erase" in user.payloads
    async with gated.sessions() as session:
        [consent] = (await session.scalars(select(Consent))).all()
        assert consent.withdrawn_at is not None
        [audit] = (await session.scalars(select(AuditEntry))).all()
        assert audit.action == "consent.withdraw" and audit.actor == "user:telegram:1001"
    await user.send(payload="demo:open")
    assert user.labels[:2] == ["Đồng ý", "Không đồng ý"]
    await user.send("/rutdongy")
    assert "không có gì để rút" in user.text


async def test_withdrawing_leaves_the_intake(app: App):
    user = ChatUser(app)
    await user.send(payload="privacy:yes:intake:open")
    assert "Bước 1/15" in user.text
    await user.send("/rutdongy")
    assert "Đã rút đồng ý" in user.text
    # The intake dialogue was left: a typed answer is not taken as step 1.
    await user.send("mua may moc")
    assert "Bước 2/15" not in user.text


async def test_see_and_erase_my_data(app: App):
    owner = ChatUser(app)
    other = ChatUser(app, chat_id="2002", name="Trần Thị Bình")
    await fill_until_summary(owner)
    await owner.tap("Xác nhận")
    await fill_until_summary(other)
    await other.tap("Xác nhận")
    async with app.sessions() as session, session.begin():
        repo = DraftRepo(session)
        [submitted] = [d for d in await repo.list() if d.chat_id == "1001"]
        await repo.set_status(submitted, "submitted", actor="staff:canbo")
        await repo.record(
            submitted, kind="notification", actor="bot:outbox", note="Hồ sơ của Minh Phat"
        )
        session.add(
            OutboxMessage(campaign="draft-1-3", channel="telegram", chat_id="1001", text="Hồ sơ")
        )
        me = await session.scalar(select(User).where(User.chat_id == "1001"))
        assert me is not None
        me.phone = "0912345678"
        await SubscriptionRepo(session).save(
            me.id, kinds=["trade_fair"], province="Quảng Ngãi", sectors=[], now=submitted.updated_at
        )
        await UnansweredRepo(session).add("telegram", "1001", "Cơ sở Minh Phát vay vốn ở đâu?")
        submitted_id = submitted.id
    # A second request, left half-way.
    await owner.send(payload="intake:restart")
    await owner.send(payload="intake:open")
    await owner.tap("Máy móc")

    await owner.send("/dulieu")
    shown = owner.text
    assert len(owner.last) == 1  # one message
    assert "Co so may tre Minh Phat" in shown and "0912345678" in shown
    assert "Nguyen Van An" in shown and "Quảng Ngãi" in shown
    assert f"#{submitted_id} (đã nộp)" in shown and "đang làm dở" in shown
    assert "Nhắc lịch: đang bật" in shown
    assert "Câu hỏi đã gửi: 1" in shown and "vay vốn" in shown
    assert "chờ gửi cho bạn: 1" in shown

    await owner.send("/xoadulieu")
    assert f"#{submitted_id}" in owner.text and "ẩn danh" in owner.text
    assert owner.labels == ["🗑 Xoá", "Giữ lại"]
    await owner.tap("Giữ lại")
    assert await _count(app, Draft, Draft.chat_id == "1001") == 2  # nothing erased yet
    await owner.send("/xoadulieu")
    await owner.tap("🗑 Xoá")
    said = owner.text
    assert "Đã xoá dữ liệu" in said and "1 hồ sơ chưa nộp" in said and "1 câu hỏi" in said
    # Said which parts of the submitted request stay, and why.
    assert f"#{submitted_id}" in said and "loại hỗ trợ" in said and "kinh phí" in said

    async with app.sessions() as session:
        drafts = (await session.scalars(select(Draft).order_by(Draft.id))).all()
        mine = [d for d in drafts if d.id == submitted_id]
        assert [d.chat_id for d in drafts if d.id != submitted_id] == ["2002"]
        [kept] = mine
        assert kept.status == "submitted" and kept.chat_id != "1001"
        assert kept.support_type == "machinery" and kept.province == "Quảng Ngãi"
        assert kept.estimated_cost == 350_000_000
        for name in ("facility_name", "owner_name", "phone", "reg_no", "plan", "products"):
            assert getattr(kept, name) is None, name
        assert kept.answers == {}
        history = (
            await session.scalars(select(DraftEvent).where(DraftEvent.draft_id == kept.id))
        ).all()
        assert [e.to_status for e in history if e.kind == "status"] == ["draft", "submitted"]
        assert all("1001" not in e.actor and not (e.note or "").count("Minh Phat") for e in history)
        me = await session.scalar(select(User).where(User.chat_id == "1001"))
        assert me is not None and me.display_name is None and me.phone is None
        subscription = select(Subscription).where(Subscription.user_id == me.id)
        assert await session.scalar(subscription) is None
        assert (await session.scalars(select(UnansweredQuestion))).all() == []
        assert (
            await session.scalars(select(OutboxMessage).where(OutboxMessage.chat_id == "1001"))
        ).all() == []
        [audit] = (
            await session.scalars(
                select(AuditEntry).where(AuditEntry.action == "personal_data.erase")
            )
        ).all()
        # The audit trail says that it happened, not what was erased.
        assert audit.actor == "user:telegram:1001" and "drafts_deleted=1" in (audit.detail or "")
        for personal in ("Minh Phat", "0912345678", "Nguyen Van An", "vay vốn"):
            assert personal not in f"{audit.actor} {audit.subject} {audit.detail}"

    await owner.send("/dulieu")
    assert owner.text == "Mình chưa lưu thông tin nào của bạn."
    # The other owner keeps everything.
    await other.send("/dulieu")
    assert "Co so may tre Minh Phat" in other.text and "Trần Thị Bình" in other.text
