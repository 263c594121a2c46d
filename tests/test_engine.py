"""The engine through its public door, on SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

from bot.app import build_app
from bot.types import Incoming, Reply
from db.repos.core import ChatStore, UserRepo
from tests.auxil.app import ChatUser, make_settings


async def test_start_shows_welcome_and_menu(app):
    user = ChatUser(app)
    await user.send("/start")
    assert "Trợ lý Khuyến công" in user.text
    assert "An" in user.text  # greets by given name
    assert user.labels == [
        "❓ Hỏi đáp khuyến công",
        "📝 Tạo hồ sơ đề nghị hỗ trợ",
        "📅 Nhắc lịch & hội chợ",
        "☎️ Liên hệ cán bộ",
    ]


async def test_redelivered_update_is_answered_once(app):
    user = ChatUser(app)
    assert await user.send("/start", update_id="42")
    assert await user.send("/start", update_id="42") == []
    assert await user.send("/start", update_id="43")


async def test_user_recorded_on_first_contact(app):
    from db.repos.core import UserRepo

    await ChatUser(app, chat_id="77", name="Trần Thị Bình").send("/start")
    await ChatUser(app, chat_id="77", name="Trần Thị Bình").send("/help")
    async with app.sessions() as session:
        user = await UserRepo(session).get("telegram", "77")
        assert user is not None
        assert user.display_name == "Trần Thị Bình"
        assert user.first_seen <= user.last_seen
        assert await UserRepo(session).count() == 1


async def test_contact_uses_deployment_settings(app):
    user = ChatUser(app)
    await user.send("/start")
    await user.tap("Liên hệ")
    assert "0235 3812 345" in user.text
    assert "Trung tâm Khuyến công tỉnh Thử Nghiệm" in user.text


async def test_cancel_leaves_dialogue(app):
    user = ChatUser(app)
    async with app.sessions() as session, session.begin():
        from db.repos.core import ConversationRepo

        conv = await ConversationRepo(session).lock("telegram", user.chat_id)
        conv.dialogue, conv.step, conv.data = "intake", "name", {"x": 1}
    await user.send("/cancel")
    assert "Đã dừng" in user.text
    assert "Hồ sơ đang làm dở vẫn được lưu" in user.text
    async with app.sessions() as session:
        conv = await ConversationRepo(session).get("telegram", user.chat_id)
        assert conv is not None and conv.dialogue is None


async def test_bad_input_gets_a_clear_reply(app):
    user = ChatUser(app)
    for text in [
        "",
        "   ",
        "x" * 10_000,
        "😀😀😀",
        "/khonglenhnay",
        "'; DROP TABLE users; --",
        "<b>xin chào</b><script>alert(1)</script>",
    ]:
        replies = await user.send(text)
        assert replies, text[:20]
        assert all(r.text.strip() for r in replies)
        assert not any("Traceback" in r.text for r in replies)
    await user.send("/khonglenhnay")
    assert "không có lệnh" in user.text
    await user.send("")
    assert "Tin nhắn trống" in user.text
    # the database is intact after the SQL-looking text
    await user.send("/start")
    assert "Trợ lý Khuyến công" in user.text


async def test_stale_or_forged_button(app):
    user = ChatUser(app)
    for payload in ["nosuchfeature:x", "menu:nosuchaction", "garbage", "intake"]:
        await user.send(payload=payload)
        assert "Nút này đã cũ" in user.text
        assert user.labels  # the menu is offered again


async def test_numbers_pick_buttons_on_channels_without_buttons(app):
    user = ChatUser(app, channel="terminal", chat_id="term")
    await user.send("/start")
    await user.send("4")
    assert "0235 3812 345" in user.text
    await user.send("99")  # no such button: treated as text, not a crash
    assert user.last


async def test_state_survives_a_restart(db_url):
    first = await build_app(make_settings(db_url))
    async with first.sessions() as session, session.begin():
        from db.repos.core import ConversationRepo

        conv = await ConversationRepo(session).lock("telegram", "5")
        conv.dialogue, conv.step, conv.data = "nosuch", "s", {"name": "Cơ sở Hòa Bình"}
    await first.close()
    second = await build_app(make_settings(db_url))
    try:
        async with second.sessions() as session:
            conv = await ConversationRepo(session).get("telegram", "5")
            assert conv is not None and conv.data == {"name": "Cơ sở Hòa Bình"}
    finally:
        await second.close()


async def test_one_chat_is_handled_one_message_at_a_time(app):
    """Two messages at once from one chat: both answered, state written in order."""
    seen: list[str] = []
    menu = app.engine.router.get("menu")
    original = menu.on_command

    async def slow(ctx, command, args):
        seen.append(f"start {command}")
        await asyncio.sleep(0.05)
        seen.append(f"end {command}")
        return await original(ctx, command, args)

    menu.on_command = slow  # type: ignore[method-assign]
    a = Incoming(channel="telegram", chat_id="9", text="/help", update_id="a")
    b = Incoming(channel="telegram", chat_id="9", text="/menu", update_id="b")
    ra, rb = await asyncio.gather(app.engine.handle(a), app.engine.handle(b))
    assert ra and rb
    assert seen in (
        ["start help", "end help", "start menu", "end menu"],
        ["start menu", "end menu", "start help", "end help"],
    )


async def test_handler_crash_gives_apology_and_keeps_state(app):
    user = ChatUser(app)
    menu = app.engine.router.get("menu")

    async def boom(ctx, command, args):
        ctx.state.data["half"] = "written"
        raise RuntimeError("bug")

    original = menu.on_command
    menu.on_command = boom  # type: ignore[method-assign]
    await user.send("/help", update_id="crash-1")
    assert "trục trặc" in user.text
    menu.on_command = original  # type: ignore[method-assign]
    # the crashing update is not retried forever
    assert await user.send("/help", update_id="crash-1") == []
    from db.repos.core import ConversationRepo

    async with app.sessions() as session:
        conv = await ConversationRepo(session).get("telegram", user.chat_id)
        assert conv is None or "half" not in conv.data


async def test_nested_state_changed_in_place_is_saved(app):
    """A handler may write ``ctx.state.data["a"]["x"] = 1``: that must reach the database."""
    from db.repos.core import ConversationRepo

    async with app.sessions() as session, session.begin():
        conv = await ConversationRepo(session).lock("telegram", "n1")
        conv.dialogue, conv.step, conv.data = "menu", "s", {"a": {"x": 0}}
    menu = app.engine.router.get("menu")

    async def mutate(ctx):
        ctx.state.data["a"]["x"] = 1
        return [Reply("ok")]

    menu.on_text = mutate  # type: ignore[method-assign]
    await app.engine.handle(Incoming(channel="telegram", chat_id="n1", text="xin chào"))
    async with app.sessions() as session:
        conv = await ConversationRepo(session).get("telegram", "n1")
        assert conv is not None and conv.data["a"]["x"] == 1


def test_greeting_uses_the_given_name_only_when_it_is_clear():
    from handlers.menu import given_name

    assert given_name("Nguyễn Văn An") == "An"
    assert given_name("Bình") == "Bình"
    assert given_name("An Nguyễn") is None  # first/last fields in either order
    assert given_name(None) is None
    assert given_name("   ") is None


async def test_help_lists_every_feature_command(app):
    user = ChatUser(app)
    await user.send("/help")
    for command, _ in app.engine.router.command_list:
        assert f"/{command}" in user.text
    assert "/hoso" in user.text and "/stop_reminders" in user.text


async def test_sticker_and_blank_get_different_hints(app):
    user = ChatUser(app)
    await user.send(None)  # a sticker or photo: no text at all
    assert "chỉ đọc được tin nhắn chữ" in user.text
    await user.send("   ")
    assert "Tin nhắn trống" in user.text


async def test_values_written_by_the_engine_read_back_through_the_orm(app):
    """The engine's fast path stores times and JSON exactly as the ORM reads them."""
    from db.models.core import Conversation, ProcessedUpdate

    user = ChatUser(app, chat_id="rt")
    await user.send("/start", update_id="rt-1")
    async with app.sessions() as session:
        seen = await session.get(ProcessedUpdate, ("telegram", "rt-1"))
        conv = await session.get(Conversation, ("telegram", "rt"))
        who = await UserRepo(session).get("telegram", "rt")
    assert seen is not None and seen.received_at.tzinfo is not None
    assert abs((datetime.now(UTC) - seen.received_at).total_seconds()) < 60
    assert conv is not None and conv.last_buttons and conv.last_buttons[0][1] == "menu:faq"
    assert who is not None and who.display_name == "Nguyễn Văn An"
    assert who.first_seen.tzinfo is not None and who.role == "owner"
    # and the ORM's own prune query compares those times correctly
    async with app.db.begin() as conn:
        assert await ChatStore(conn).prune(timedelta(days=7)) == 0
        assert await ChatStore(conn).prune(timedelta(seconds=-60)) >= 1
