"""Human handoff and leads on Telegram (python-telegram-bot against the fake Bot API): the
owner's question reaches the staff chat, the staff answer reaches the owner, a second staff
member cannot take it; a collaborator's lead reaches the staff chat, its duplicate does not."""

from __future__ import annotations

from db.repos.core import UserRepo
from tests.auxil.fake_telegram import FakeTelegram
from tests.auxil.telegram import RunningBot
from tests.test_outbox_support import local

OWNER, STAFF_A, STAFF_B, CTV = 5101, 5201, 5202, 5301


def _texts(messages: list[dict]) -> str:
    return "\n".join((m.get("text") or m.get("caption") or "") for m in messages)


def _payloads(messages: list[dict]) -> str:
    return " ".join(str(m.get("reply_markup")) for m in messages)


async def _until(fake: FakeTelegram, chat: int, expect: str) -> str:
    await fake.wait_for(lambda f: expect in _texts(f.sent_to(chat)), timeout=15)
    return _texts(fake.sent_to(chat))


async def _role(bot: RunningBot, chat: int, role: str) -> None:
    async with bot.app.sessions() as session, session.begin():
        assert await UserRepo(session).set_role("telegram", str(chat), role)


async def test_ticket_and_lead_through_telegram(
    running_bot: RunningBot, fake_telegram: FakeTelegram
):
    fake = fake_telegram
    for chat, first in ((STAFF_A, "Cường"), (STAFF_B, "Dung"), (CTV, "Hùng")):
        fake.push_message(chat, "/start", first_name=first, last_name="Lê")
        await _until(fake, chat, "Trợ lý Khuyến công")
    await _role(running_bot, STAFF_A, "staff")
    await _role(running_bot, STAFF_B, "staff")
    await _role(running_bot, CTV, "collaborator")

    fake.push_message(OWNER, "cho em gặp người thật")
    await _until(fake, OWNER, "gõ câu hỏi")
    fake.push_message(OWNER, "ok")
    await _until(fake, OWNER, "chưa phải câu hỏi")
    fake.push_message(OWNER, "Cơ sở em làm nón lá có được hỗ trợ không ạ?")
    await _until(fake, OWNER, "để lại số điện thoại")
    fake.push_callback(OWNER, "tickets:nophone")
    await _until(fake, OWNER, "Đã gửi câu hỏi #1")

    # Both staff chats get the notice (from the outbox sender), with «Nhận» and «Trả lời».
    for staff in (STAFF_A, STAFF_B):
        await _until(fake, staff, "nón lá")
        assert "tickets:take:1" in _payloads(fake.sent_to(staff))
    fake.push_callback(STAFF_A, "tickets:take:1")
    await _until(fake, STAFF_A, "đã nhận câu hỏi #1")
    fake.push_callback(STAFF_B, "tickets:take:1")
    await _until(fake, STAFF_B, "đã có cán bộ")
    fake.push_callback(STAFF_A, "tickets:reply:1")
    await _until(fake, STAFF_A, "gõ câu trả lời")
    fake.push_message(STAFF_A, "Dạ có, nón lá thuộc thủ công mỹ nghệ.")
    await _until(fake, STAFF_A, "Đã gửi câu trả lời")
    text = await _until(fake, OWNER, "nón lá thuộc thủ công mỹ nghệ")
    assert "💬 Cán bộ" in text and text.count("nón lá thuộc thủ công mỹ nghệ") == 1

    # A collaborator's lead reaches the staff chats; its duplicate is refused.
    async def lead(name: str, phone: str) -> None:
        fake.push_callback(CTV, "leads:new")
        await _until(fake, CTV, "Tên cơ sở được giới thiệu")
        for step, expect in ((name, "Họ tên chủ cơ sở"), ("Lê Thị Mai", "Số điện thoại")):
            before = len(fake.sent_to(CTV))
            fake.push_message(CTV, step)
            await fake.wait_for(
                lambda f, e=expect, b=before: e in _texts(f.sent_to(CTV)[b:]), timeout=15
            )
        fake.push_message(CTV, phone)

    await lead("Cơ sở nón lá Mai Hoa", "0905 123 456")
    await _until(fake, CTV, "tỉnh/thành phố nào")
    fake.push_message(CTV, "hue")
    await _until(fake, CTV, "Bạn chọn đúng tỉnh")
    prov = [m for m in fake.sent_to(CTV) if "leads:prov:" in str(m.get("reply_markup"))][-1]
    code = str(prov["reply_markup"]).split("leads:prov:")[1].split("'")[0]
    fake.push_callback(CTV, f"leads:prov:{code}")
    await _until(fake, CTV, "xã, phường")
    fake.push_message(CTV, "phu vang")
    await _until(fake, CTV, "Bạn chọn đúng xã")
    com = [m for m in fake.sent_to(CTV) if "leads:com:" in str(m.get("reply_markup"))][-1]
    commune = str(com["reply_markup"]).split("leads:com:")[1].split("'")[0]
    fake.push_callback(CTV, f"leads:com:{commune}")
    await _until(fake, CTV, "ngành nghề")
    fake.push_callback(CTV, "leads:pick:sector:craft")
    await _until(fake, CTV, "cần hỗ trợ nội dung gì")
    fake.push_callback(CTV, "leads:pick:support:machinery")
    await _until(fake, CTV, "Ghi chú")
    fake.push_callback(CTV, "leads:skip")
    await _until(fake, CTV, "đồng ý để cán bộ")
    fake.push_callback(CTV, "leads:pick:consent:yes")
    await _until(fake, CTV, "Xem lại")
    fake.push_callback(CTV, "leads:confirm")
    await _until(fake, CTV, "Đã lưu cơ sở #1")
    # Staff hear of it in their digest (working hours, one message per 10 minutes).
    app = running_bot.app
    # A past working morning: the digest is due at once.
    await app.engine.router.get("staff").tick(app.sessions, local(2026, 12, 1, 8, 0))
    running_bot.workers.sender.wake()
    # The sender delivers the two staff chats' digests in no set order: wait for both.
    for staff in (STAFF_A, STAFF_B):
        await _until(fake, staff, "Mai Hoa")
    await lead("Nón lá Mai Hoa", "+84905123456")
    await _until(fake, CTV, "Cơ sở này đã được giới thiệu ngày")
    assert _texts(fake.sent_to(STAFF_B)).count("Mai Hoa") == 1
    assert fake.rejected == []
