"""Inbox events handled in batches (one transaction for many chats), on SQLite and
PostgreSQL: every chat answered as if alone, a crash costs only its own reply, and a role
changed elsewhere is seen by the next batch."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime, timedelta

from bot.engine import ERROR_TEXT
from bot.inbox import event_of
from bot.types import Incoming
from db.models.base import utcnow
from db.repos.inbox import DONE, FAILED, InboxRepo
from db.repos.staff import RoleRepo
from handlers.menu import STAFF_MENU_TEXT
from tests.auxil.app import ChatUser

TOKEN = "test-worker"
_update_ids = itertools.count(1)


def incoming(chat: str, text: str, n: int) -> Incoming:
    return Incoming(
        channel="telegram",
        chat_id=chat,
        user_id=chat,
        display_name="Trần Thị Lan",
        text=text,
        update_id=f"b{n}",
        time=datetime.now(UTC),
    )


async def handle_batch(app, messages: list[tuple[str, str]]):
    """Store the messages, claim them as the inbox worker does and handle them together."""
    numbered = [(next(_update_ids), chat, text) for chat, text in messages]
    events = [event_of(incoming(chat, text, n), f"b{n}") for n, chat, text in numbered]
    await app.inbox.accept(events)
    async with app.engine.db.begin() as conn:
        claimed = await InboxRepo(conn).claim(
            TOKEN, utcnow(), timedelta(seconds=30), 100, ["telegram"]
        )
    assert len(claimed) == len(messages)
    replies = await app.engine.process_many(claimed, TOKEN)
    return {event.chat_id: [r.reply.text for r in replies[event.id]] for event in claimed}


async def test_every_chat_of_a_batch_is_answered_and_a_crash_costs_only_its_reply(app):
    menu = app.engine.router.get("menu")
    original = menu.on_command

    async def crash_for_one_chat(ctx, command, args):
        if ctx.incoming.chat_id == "7003":
            ctx.state.data["half"] = "written"
            raise RuntimeError("bug")
        return await original(ctx, command, args)

    menu.on_command = crash_for_one_chat  # type: ignore[method-assign]
    chats = [f"700{i}" for i in range(6)]
    answers = await handle_batch(app, [(chat, "/help") for chat in chats])
    menu.on_command = original  # type: ignore[method-assign]

    assert answers["7003"] == [ERROR_TEXT]
    for chat in chats:
        if chat != "7003":
            [text] = answers[chat]
            assert "/menu" in text and "trục trặc" not in text
    async with app.engine.db.begin() as conn:
        assert await InboxRepo(conn).counts() == {DONE: 5, FAILED: 1}
    # Asked again, the user who met the crash gets the ordinary answer.
    user = ChatUser(app, chat_id="7003")
    await user.send("/help")
    assert "/menu" in user.text


async def test_a_role_given_from_the_command_line_shows_in_the_next_batch(app):
    first = await handle_batch(app, [("7101", "/menu"), ("7102", "/menu")])
    assert STAFF_MENU_TEXT not in first["7101"]
    async with app.sessions() as session, session.begin():  # as `kcbot users role` does
        await RoleRepo(session).set_role("telegram", "7101", "staff", utcnow())
    second = await handle_batch(app, [("7101", "/menu"), ("7102", "/menu")])
    assert second["7101"] == [STAFF_MENU_TEXT]
    assert STAFF_MENU_TEXT not in second["7102"]
