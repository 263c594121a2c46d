"""The Zalo OA channel end to end: ``kcbot run``'s ``serve`` with the fake OA API.

The test plays Zalo's part (signed webhook POSTs) and reads what the fake API received.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest
from sqlalchemy import select

from db.models.core import User
from tests.auxil.fake_zalo import FakeZaloOA, post_event, sign
from tests.auxil.zalo import Served, oa_settings, seed_tokens, serve_in_background, settings_for

USER = "246845883529197922"


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
    status = await post_event(oa_bot.url("/zalo/oa"), fake_oa.event("user_send_text", USER, text="menu"))
    assert status == 200
    messages = await fake_oa.wait_for(USER, 1)
    buttons = all_buttons(messages)
    assert buttons, messages
    assert {b["type"] for b in buttons} == {"oa.query.show"}
    assert all(b["payload"].startswith("#") and len(b["title"]) <= 100 for b in buttons)
    assert any("Tạo hồ sơ" in b["title"] for b in buttons)
    assert fake_oa.refused == []


async def test_forged_or_unsigned_events_get_403_and_no_answer(
    oa_bot: Served, fake_oa: FakeZaloOA
):
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
