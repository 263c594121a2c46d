"""A whole intake on Telegram (python-telegram-bot against the fake Bot API)."""

from __future__ import annotations

from sqlalchemy import select

from db.models.drafts import Draft
from knowledge import places
from tests.auxil.fake_telegram import FakeTelegram
from tests.auxil.telegram import RunningBot

CHAT = 4242


def _texts(messages: list[dict]) -> str:
    return "\n".join((m.get("text") or m.get("caption") or "") for m in messages)


async def test_whole_intake_on_telegram(running_bot: RunningBot, fake_telegram: FakeTelegram):
    async def step(push, expect: str) -> list[dict]:
        before = len(fake_telegram.sent_to(CHAT))
        push()

        def arrived(fake: FakeTelegram) -> bool:
            return expect in _texts(fake.sent_to(CHAT)[before:])

        await fake_telegram.wait_for(arrived, timeout=10)
        return fake_telegram.sent_to(CHAT)[before:]

    def text(t: str):
        return lambda: fake_telegram.push_message(CHAT, t)

    def tap(p: str):
        return lambda: fake_telegram.push_callback(CHAT, p)

    commune = places.match_commune(51, "nghia hanh")[0].code
    await step(text("/start"), "Trợ lý Khuyến công")
    # The data notice comes before anything personal is asked.
    [notice] = await step(tap("menu:intake"), "/xoadulieu")
    assert "Đồng ý" in str(notice["reply_markup"])
    await step(tap("privacy:yes:intake:open"), "Bước 1/15")
    await step(tap("intake:pick:support:machinery"), "Bước 2/15")
    await step(text("ho kinh doanh"), "Bước 3/15")
    await step(tap("intake:pick:sector:craft"), "Bước 4/15")
    await step(text("quang ngai"), "Có phải Quảng Ngãi")
    await step(tap("intake:prov:51"), "Bước 5/15")
    await step(text("nghia hanh"), "Nghĩa Hành")
    await step(tap(f"intake:com:{commune}"), "Bước 6/15")
    await step(text("Co so moc Minh Phat"), "Bước 7/15")
    await step(tap("intake:skip"), "Bước 8/15")
    sent = await step(text("Nguyen Van An"), "Bước 9/15")
    # The share-contact keyboard is offered at the phone step.
    assert any("request_contact" in str(m.get("reply_markup")) for m in sent)
    await step(lambda: fake_telegram.push_contact(CHAT, "84912345678"), "Bước 10/15")
    await step(text("ban ghe go"), "Bước 11/15")
    await step(text("12"), "Bước 12/15")
    await step(text("mua may cha nham"), "Bước 13/15")
    await step(text("350tr"), "Bước 14/15")
    await step(text("200 trieu"), "Bước 15/15")
    await step(text("tang nang suat"), "Xem lại hồ sơ")
    sent = await step(tap("intake:confirm"), "Đã lưu hồ sơ")
    await fake_telegram.wait_for(
        lambda f: any(m["method"] == "sendDocument" for m in f.sent_to(CHAT)), timeout=10
    )
    [doc] = [m for m in fake_telegram.sent_to(CHAT) if m["method"] == "sendDocument"]
    assert "hồ sơ #" in (doc.get("caption") or "")
    assert fake_telegram.rejected == []
    async with running_bot.app.sessions() as session:
        [draft] = (await session.scalars(select(Draft))).all()
        assert draft.status == "draft" and draft.phone == "0912345678"
        assert draft.commune == "Xã Nghĩa Hành" and draft.estimated_support == 175_000_000
