"""The Zalo OA channel end to end: ``kcbot run``'s ``serve`` with the fake OA API.

The test plays Zalo's part (signed webhook POSTs) and reads what the fake API received.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import aiohttp
import pytest
from sqlalchemy import select

from db.models.core import User
from tests.auxil.fake_zalo import FakeZaloOA, post_event, sign
from tests.auxil.zalo import (
    BASE,
    Served,
    oa_settings,
    seed_tokens,
    serve_in_background,
    settings_for,
)

USER = "246845883529197922"
DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"


async def download(url: str) -> tuple[int, dict[str, str], bytes]:
    async with aiohttp.ClientSession() as http, http.get(url) as response:
        return response.status, dict(response.headers), await response.read()


@pytest.fixture
async def oa_bot(db_url: str, fake_oa: FakeZaloOA) -> AsyncIterator[Served]:
    await seed_tokens(db_url, fake_oa.access_token, fake_oa.refresh_token)
    served = await serve_in_background(settings_for(db_url, **oa_settings(db_url, fake_oa)))
    yield served
    await served.stop()


def buttons_of(message: dict) -> list[dict]:
    return message.get("attachment", {}).get("payload", {}).get("buttons", [])


def all_buttons(messages: list[dict]) -> list[dict]:
    return [b for m in messages for b in buttons_of(m)]


async def users(db_url_app: Served) -> list[User]:
    from db.session import create_engine, session_factory

    engine = create_engine(db_url_app.settings.database_url)
    try:
        async with session_factory(engine)() as session:
            return list(await session.scalars(select(User).where(User.channel == "zalo_oa")))
    finally:
        await engine.dispose()


async def test_signed_text_gets_the_menu_with_buttons(oa_bot: Served, fake_oa: FakeZaloOA):
    status = await post_event(
        oa_bot.url("/zalo/oa"), fake_oa.event("user_send_text", USER, text="menu")
    )
    assert status == 200
    messages = await fake_oa.wait_for(USER, 1)
    buttons = all_buttons(messages)
    assert buttons, messages
    assert {b["type"] for b in buttons} == {"oa.query.show"}
    assert all(b["payload"].startswith("#") and len(b["title"]) <= 100 for b in buttons)
    assert any("Tạo hồ sơ" in b["title"] for b in buttons)
    assert fake_oa.refused == []


async def test_forged_or_unsigned_events_get_403_and_no_answer(oa_bot: Served, fake_oa: FakeZaloOA):
    url = oa_bot.url("/zalo/oa")
    event = fake_oa.event("user_send_text", USER, text="xin chào")
    assert await post_event(url, event, signature=None) == 403
    assert await post_event(url, event, signature="mac=" + "0" * 64) == 403
    import json

    raw = json.dumps(event, ensure_ascii=False).encode()
    assert await post_event(url, event, signature=sign(raw, secret="wrong")) == 403
    # Signed for another body (the text changed in transit).
    other = dict(event, message={"text": "khác", "msg_id": "x1"})
    assert await post_event(url, other, signature=sign(raw)) == 403
    await asyncio.sleep(0.5)
    assert fake_oa.sent == []
    assert await users(oa_bot) == []
    # The bare hex form (without "mac=") is accepted.
    assert await post_event(url, event, signature=sign(raw).removeprefix("mac=")) == 200
    await fake_oa.wait_for(USER, 1)


async def test_the_same_event_twice_is_answered_once(oa_bot: Served, fake_oa: FakeZaloOA):
    url = oa_bot.url("/zalo/oa")
    event = fake_oa.event("user_send_text", USER, text="menu", msg_id="dup-1")
    assert await post_event(url, event) == 200
    first = len(await fake_oa.wait_for(USER, 1))
    assert await post_event(url, event) == 200
    await asyncio.sleep(0.8)
    assert len(fake_oa.sent_to(USER)) == first


async def test_button_payload_continues_the_dialogue(oa_bot: Served, fake_oa: FakeZaloOA):
    url = oa_bot.url("/zalo/oa")
    await post_event(url, fake_oa.event("user_send_text", USER, text="menu"))
    messages = await fake_oa.wait_for(USER, 1)
    [intake] = [b for b in all_buttons(messages) if "Tạo hồ sơ" in b["title"]]
    before = len(fake_oa.sent_to(USER))
    # Zalo sends the tapped button's payload back as the user's text.
    await post_event(url, fake_oa.event("user_send_text", USER, text=intake["payload"]))
    after = await fake_oa.wait_for(USER, before + 1)
    assert "Đồng ý" in str(after[before:])  # the data notice before the intake


async def test_follow_welcomes_unfollow_marks_unreachable_non_text_is_explained(
    oa_bot: Served, fake_oa: FakeZaloOA
):
    url = oa_bot.url("/zalo/oa")
    assert await post_event(url, fake_oa.event("follow", USER)) == 200
    welcome = await fake_oa.wait_for(USER, 1)
    assert "Trợ lý Khuyến công" in str(welcome) and all_buttons(welcome)
    n = len(fake_oa.sent_to(USER))
    await post_event(url, fake_oa.event("user_send_sticker", USER))
    texts = (await fake_oa.wait_for(USER, n + 1))[n:]
    assert "chỉ đọc được tin nhắn chữ" in str(texts)
    # An image's caption is read as text.
    n = len(fake_oa.sent_to(USER))
    await post_event(url, fake_oa.event("user_send_image", USER, text="menu"))
    assert all_buttons((await fake_oa.wait_for(USER, n + 1))[n:])
    # Echoes and receipts are confirmed and ignored.
    n = len(fake_oa.sent_to(USER))
    for name in ("oa_send_text", "user_seen_message", "user_received_message"):
        assert await post_event(url, fake_oa.event(name, USER, text="x")) == 200
    assert await post_event(url, fake_oa.event("unfollow", USER)) == 200
    await asyncio.sleep(0.5)
    assert len(fake_oa.sent_to(USER)) == n
    [user] = await users(oa_bot)
    assert user.unreachable
    # Following again: welcomed, and reachable for reminders again.
    assert await post_event(url, fake_oa.event("follow", USER)) == 200
    await fake_oa.wait_for(USER, n + 1)
    [user] = await users(oa_bot)
    assert not user.unreachable


async def test_whole_intake_on_oa_with_the_shared_phone(oa_bot: Served, fake_oa: FakeZaloOA):
    from knowledge import places

    url = oa_bot.url("/zalo/oa")

    async def step(event: dict, expect: str) -> list[dict]:
        before = len(fake_oa.sent_to(USER))
        assert await post_event(url, event) == 200
        for _ in range(250):
            got = fake_oa.sent_to(USER)[before:]
            if expect in str(got):
                return got
            await asyncio.sleep(0.04)
        raise AssertionError(f"{expect!r} not in {fake_oa.sent_to(USER)[before:]}")

    def text(t: str) -> dict:
        return fake_oa.event("user_send_text", USER, text=t)

    def tap(payload: str) -> dict:
        return text("#" + payload)

    commune = places.match_commune(51, "nghia hanh")[0].code
    await step(fake_oa.event("follow", USER), "Trợ lý Khuyến công")
    await step(tap("menu:intake"), "Đồng ý")
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
    # The phone step offers Zalo's «share your information» template; it is sent right
    # after the step's text, so wait for the template itself rather than the text.
    sent = await step(text("Nguyen Van An"), "request_user_info")
    assert "Bước 9/15" in str(sent)
    templates = [m["attachment"]["payload"] for m in sent if "attachment" in m]
    assert any(t.get("template_type") == "request_user_info" for t in templates)
    info = {"name": "Nguyễn Văn An", "phone": "84912345678", "address": "Nghĩa Hành"}
    await step(fake_oa.event("user_submit_info", USER, info=info), "Bước 10/15")
    await step(text("ban ghe go"), "Bước 11/15")
    await step(text("12"), "Bước 12/15")
    await step(text("mua may cha nham"), "Bước 13/15")
    await step(text("350tr"), "Bước 14/15")
    await step(text("200 trieu"), "Bước 15/15")
    await step(text("tang nang suat"), "Xem lại hồ sơ")
    await step(tap("intake:confirm"), "Đã lưu hồ sơ")
    # No documents through the OA API: the filled request arrives as a 7-day download link
    # from the bot's own address, and the link gives the DOCX.
    for _ in range(250):
        said = [m.get("text", "") for m in fake_oa.sent_to(USER)]
        if "📎" in str(said):
            break
        await asyncio.sleep(0.04)
    [line] = [t for m in said for t in m.splitlines() if "📎 Tải đơn đề nghị:" in t]
    link = line.split(": ", 1)[1].strip()
    assert link.startswith(f"{BASE}/files/") and len(link) > len(BASE) + 40
    assert any("7 ngày" in t for t in said if link in t)
    assert "không gửi được tệp" not in str(said)
    assert fake_oa.refused == []
    status, headers, body = await download(oa_bot.url(link.removeprefix(BASE)))
    assert status == 200 and body.startswith(b"PK")
    assert headers["Content-Disposition"].startswith("attachment;")
    assert ".docx" in headers["Content-Disposition"]
    assert headers["Content-Type"] == DOCX
    from db.models.drafts import Draft
    from db.session import create_engine, session_factory

    engine = create_engine(oa_bot.settings.database_url)
    try:
        async with session_factory(engine)() as session:
            [draft] = (await session.scalars(select(Draft))).all()
    finally:
        await engine.dispose()
    assert draft.channel == "zalo_oa" and draft.phone == "0912345678"


async def test_a_reminder_to_a_user_silent_for_8_days_is_marked_outside_the_window(
    oa_bot: Served, fake_oa: FakeZaloOA
):
    import time
    from datetime import UTC, datetime

    from bot.outbox import enqueue_many
    from db.models.events import OutboxMessage
    from db.repos.outbox import NewMessage
    from db.session import create_engine, session_factory
    from tests.auxil.fake_zalo import DAY_MS

    fake_oa.last_interaction["silent"] = int(time.time() * 1000) - 8 * DAY_MS
    engine = create_engine(oa_bot.settings.database_url)
    sessions = session_factory(engine)
    try:
        async with sessions() as session, session.begin():
            await enqueue_many(
                session,
                [
                    NewMessage(
                        "rem:1:7",
                        "zalo_oa",
                        chat,
                        "Nhắc: hội chợ sau 7 ngày",
                        [],
                        datetime.now(UTC),
                    )
                    for chat in ("silent", USER)
                ],
            )
        await fake_oa.wait_for(USER, 1)
        for _ in range(100):
            async with sessions() as session:
                rows = {r.chat_id: r for r in await session.scalars(select(OutboxMessage))}
            if all(r.status not in ("pending", "sending") for r in rows.values()):
                break
            await asyncio.sleep(0.05)
    finally:
        await engine.dispose()
    assert rows[USER].status == "sent"
    silent = rows["silent"]
    assert silent.status == "failed" and "ngoài cửa sổ 7 ngày" in (silent.last_error or "")
    assert silent.attempts == 1  # never retried
    assert fake_oa.sent_to("silent") == []
    # Counted in the staff's report.
    import argparse
    import contextlib
    import io

    from bot.cli_zalo import cmd_status

    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        assert await cmd_status(argparse.Namespace(), oa_bot.settings) == 0
    assert "ngoài cửa sổ 7 ngày: 1" in out.getvalue()


async def test_shared_file_links_unknown_or_expired_give_404(oa_bot: Served):
    from datetime import UTC, datetime, timedelta

    from db.repos.files import SharedFileRepo
    from db.session import create_engine, session_factory

    now = datetime.now(UTC)
    engine = create_engine(oa_bot.settings.database_url)
    try:
        async with session_factory(engine)() as session, session.begin():
            repo = SharedFileRepo(session)
            fresh = await repo.share("Đơn đề nghị.docx", b"PK\x03\x04 fresh", None, now)
            old = await repo.share("Cũ.docx", b"PK\x03\x04 old", None, now - timedelta(days=8))
    finally:
        await engine.dispose()
    status, headers, body = await download(oa_bot.url(f"/files/{fresh}"))
    assert status == 200 and body == b"PK\x03\x04 fresh"
    assert headers["Content-Type"] == DOCX
    assert "filename*=UTF-8''%C4%90%C6%A1n" in headers["Content-Disposition"]
    for token in (old, fresh[:-1] + ("A" if fresh[-1] != "A" else "B"), "x" * 500):
        status, _, body = await download(oa_bot.url(f"/files/{token}"))
        assert status == 404 and "hết hạn" in body.decode()
    for path in ("/files/", "/files"):  # nothing is listed
        status, _, _ = await download(oa_bot.url(path))
        assert status in (404, 405)
