"""The dialogue engine: one message in, the replies out, state in the database.

``process(event, token)`` handles an inbox event claimed by the inbox worker. In one
transaction it marks the event done (only while the worker's claim holds), records the
user, locks and loads the chat's conversation, lets the router's handler run, saves the
conversation and queues the replies in the outbox, rendered for the channel and already
claimed by the calling worker, which sends them right after the commit. If the process dies
before the event commits, the event is claimed again; after, the replies are sent by
whichever sender takes them when their lease has passed. Nothing is lost, and a message is
answered once.

``handle(incoming)`` is the same without inbox and outbox, for the terminal chat and for
tests: the caller shows the replies itself.

Messages of one chat are handled one at a time (an in-process lock, plus a row lock on
PostgreSQL for several processes).
"""

from __future__ import annotations

import asyncio
import contextlib
import copy
import logging
from collections import OrderedDict
from collections.abc import AsyncIterator, Callable, Sequence
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from bot.channels import PLAIN, Capabilities
from bot.render import render
from bot.types import Button, Incoming, Reply, incoming_from_json
from db.models.base import utcnow
from db.repos.core import ChatStore, ConversationRow, SavedConversation, SeenUser
from db.repos.inbox import FAILED, ClaimedEvent, InboxRepo
from db.repos.outbox import DirectReply, RepliesTo, insert_direct, insert_direct_many
from handlers.base import Context, DialogueState, Router, Services

log = logging.getLogger(__name__)

# Longer texts are cut before handling: nobody types more, and it keeps matching fast.
MAX_TEXT = 4000

# How stale a user's last-seen time and name may get (and how long "blocked the bot" may
# outlive a new message from another process's point of view).
USER_REFRESH = timedelta(minutes=5)
USER_CACHE_SIZE = 10_000

ERROR_TEXT = (
    "Xin lỗi, mình gặp trục trặc khi xử lý tin nhắn này. "
    "Bạn thử gửi lại, hoặc gõ /menu để bắt đầu lại. Những gì bạn đã nhập vẫn được giữ."
)


class ChatLocks:
    """One asyncio lock per chat, dropped when nobody waits on it."""

    def __init__(self) -> None:
        self._locks: dict[tuple[str, str], tuple[asyncio.Lock, int]] = {}

    async def __call__(self, key: tuple[str, str]) -> _Held:
        lock, users = self._locks.get(key, (asyncio.Lock(), 0))
        self._locks[key] = (lock, users + 1)
        return _Held(self, key, lock)

    def _release(self, key: tuple[str, str]) -> None:
        lock, users = self._locks[key]
        if users <= 1:
            del self._locks[key]
        else:
            self._locks[key] = (lock, users - 1)


class _Held:
    def __init__(self, owner: ChatLocks, key: tuple[str, str], lock: asyncio.Lock) -> None:
        self.owner, self.key, self.lock = owner, key, lock

    async def __aenter__(self) -> None:
        await self.lock.acquire()

    async def __aexit__(self, *exc: object) -> None:
        self.lock.release()
        self.owner._release(self.key)


def _buttons_to_json(replies: list[Reply]) -> list[list[str]]:
    return [[b.label, b.payload] for r in replies for b in r.all_buttons()]


class Engine:
    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        router: Router,
        services: Services,
    ) -> None:
        self.sessions = sessions
        # The engine works on plain connections; handlers get an ORM session joined to it.
        self.db: AsyncEngine = sessions.kw["bind"]
        self.router = router
        self.services = services
        self._locks = ChatLocks()
        self._in_flight = 0
        self._idle = asyncio.Event()
        self._idle.set()
        # (channel, chat id) -> the user and when their row was last written.
        self._seen: OrderedDict[tuple[str, str], tuple[SeenUser, datetime]] = OrderedDict()
        # What each channel can show; the transports declare theirs when they start.
        self.capabilities: dict[str, Capabilities] = {}
        self.reply_lease = timedelta(seconds=services.settings.outbox_lease_seconds)

    def caps(self, channel: str) -> Capabilities:
        return self.capabilities.get(channel, PLAIN)

    @property
    def now(self) -> Callable[[], datetime]:
        return self.services.now

    async def handle(self, incoming: Incoming) -> list[Reply]:
        """Handle one message; returns what to show (empty for a redelivery)."""
        async with self._turn(incoming):
            incoming = sanitise(incoming)
            try:
                async with self.db.connect() as conn, conn.begin():
                    store = ChatStore(conn)
                    conv = await store.record_and_lock(
                        incoming.channel, incoming.chat_id, incoming.update_id
                    )
                    if conv is None:
                        log.info(
                            "update %s/%s handled before", incoming.channel, incoming.update_id
                        )
                        return []
                    return await self._run(conn, store, conv, incoming)
            except Exception:
                log.exception("handling a message of %s/%s failed", *_who(incoming))
                await self._record_failed_update(incoming)
                return [Reply(ERROR_TEXT)]

    async def process(self, event: ClaimedEvent, token: str) -> list[DirectReply]:
        """Handle an inbox event claimed with ``token``; the replies to send now (queued
        and claimed in the same transaction). Empty when the claim was lost meanwhile."""
        incoming = sanitise(incoming_from_json(event.incoming))
        campaign = f"reply:{event.id}"
        async with self._turn(incoming):
            now = utcnow()
            try:
                async with self.db.connect() as conn, conn.begin():
                    if not await InboxRepo(conn).finish(event.id, token, now):
                        log.info("inbox event %s was taken over by another worker", event.id)
                        return []
                    store = ChatStore(conn)
                    conv = await store.lock_conversation(incoming.channel, incoming.chat_id)
                    replies = await self._run(conn, store, conv, incoming)
                    return await self._queue(conn, campaign, incoming, replies, token, now)
            except Exception as exc:
                log.exception("handling inbox event %s of %s/%s failed", event.id, *_who(incoming))
                return await self.give_up(event, token, f"{type(exc).__name__}: {exc}")

    async def give_up(self, event: ClaimedEvent, token: str, error: str) -> list[DirectReply]:
        """Mark an event failed and tell the user so (a handler error, or an event that
        took its worker down too often)."""
        incoming = incoming_from_json(event.incoming)
        now = utcnow()
        async with self.db.connect() as conn, conn.begin():
            if not await InboxRepo(conn).finish(event.id, token, now, FAILED, error[:2000]):
                return []
            return await self._queue(
                conn, f"reply:{event.id}", incoming, [Reply(ERROR_TEXT)], token, now
            )

    async def process_many(
        self, events: Sequence[ClaimedEvent], token: str
    ) -> dict[int, list[DirectReply]]:
        """``process`` for events of different chats in one transaction (group commit):
        their states, inbox marks and replies are committed together, so a batch costs a
        handful of statements and one commit instead of that many per event. Each event
        is still handled on its own, in order, with its chat's state locked; a handler
        changes only its own chat's conversation, so all of them are read up front.

        If anything fails, the whole batch is rolled back and each event is processed on
        its own: the failing one is answered with an apology, the others as usual.
        Returns, per event id, the replies to send now (none for a lost claim)."""
        if len(events) == 1:
            return {events[0].id: await self.process(events[0], token)}
        incomings = [(event, sanitise(incoming_from_json(event.incoming))) for event in events]
        keys = sorted({(incoming.channel, incoming.chat_id) for _, incoming in incomings})
        if len(keys) == len(events):
            done = await self._process_together(incomings, keys, token)
            if done is not None:
                return done
        # Several events of one chat, or the batch failed: one transaction each, in order.
        return {event.id: await self.process(event, token) for event in events}

    async def _process_together(
        self,
        incomings: list[tuple[ClaimedEvent, Incoming]],
        keys: list[tuple[str, str]],
        token: str,
    ) -> dict[int, list[DirectReply]] | None:
        """The batch in one transaction; None if it failed (rolled back)."""
        async with self._turns(keys):
            now = utcnow()
            try:
                async with self.db.connect() as conn, conn.begin():
                    held = await InboxRepo(conn).finish_many(
                        [e.id for e, _ in incomings], token, now
                    )
                    todo = [(e, i) for e, i in incomings if e.id in held]
                    store = ChatStore(conn)
                    chats = [(i.channel, i.chat_id) for _, i in todo]
                    convs = await store.lock_conversations(chats)
                    known = await store.users(chats)
                    changed: list[SavedConversation] = []
                    answers: list[RepliesTo] = []
                    for event, incoming in todo:
                        conv = convs[(incoming.channel, incoming.chat_id)]
                        replies, saved = await self._route_one(conn, store, conv, incoming, known)
                        if saved is not None:
                            changed.append(saved)
                        parts = render(replies, self.caps(incoming.channel))
                        answers.append(
                            RepliesTo(
                                f"reply:{event.id}", incoming.channel, incoming.chat_id, parts
                            )
                        )
                    await store.save_conversations(changed)
                    queued = await insert_direct_many(
                        conn, answers, token=token, now=now, lease=self.reply_lease
                    )
            except Exception:
                log.warning(
                    "a batch of %d inbox events failed; handling them one by one",
                    len(incomings),
                    exc_info=True,
                )
                return None
        result: dict[int, list[DirectReply]] = {e.id: [] for e, _ in incomings}
        for (event, _), direct in zip(todo, queued, strict=True):
            result[event.id] = direct
        lost = len(incomings) - len(todo)
        if lost:
            log.info("%d inbox events were taken over by another worker", lost)
        return result

    async def _queue(
        self,
        conn: Any,
        campaign: str,
        incoming: Incoming,
        replies: list[Reply],
        token: str,
        now: datetime,
    ) -> list[DirectReply]:
        parts = render(replies, self.caps(incoming.channel))
        return await insert_direct(
            conn,
            campaign=campaign,
            channel=incoming.channel,
            chat_id=incoming.chat_id,
            replies=parts,
            token=token,
            now=now,
            lease=self.reply_lease,
        )

    @contextlib.asynccontextmanager
    async def _turn(self, incoming: Incoming) -> AsyncIterator[None]:
        """One message at a time per chat in this process; counted for ``drain``."""
        self._in_flight += 1
        self._idle.clear()
        try:
            held = await self._locks((incoming.channel, incoming.chat_id))
            async with held:
                yield
        finally:
            self._in_flight -= 1
            if self._in_flight == 0:
                self._idle.set()

    @contextlib.asynccontextmanager
    async def _turns(self, keys: list[tuple[str, str]]) -> AsyncIterator[None]:
        """``_turn`` for several chats at once (taken in key order: no deadlock)."""
        self._in_flight += 1
        self._idle.clear()
        try:
            async with contextlib.AsyncExitStack() as stack:
                for key in keys:
                    await stack.enter_async_context(await self._locks(key))
                yield
        finally:
            self._in_flight -= 1
            if self._in_flight == 0:
                self._idle.set()

    async def drain(self) -> None:
        """Wait until no message is being handled (for a clean shutdown)."""
        await self._idle.wait()

    async def _run(
        self, conn: Any, store: ChatStore, conv: ConversationRow, incoming: Incoming
    ) -> list[Reply]:
        """Route the message and save the conversation (the caller's transaction)."""
        replies, changed = await self._route_one(conn, store, conv, incoming)
        if changed is not None:
            await store.save_conversations([changed])
        return replies

    async def _route_one(
        self,
        conn: Any,
        store: ChatStore,
        conv: ConversationRow,
        incoming: Incoming,
        known: dict[tuple[str, str], SeenUser] | None = None,
    ) -> tuple[list[Reply], SavedConversation | None]:
        """Route the message; its replies and the conversation to save (None: unchanged)."""
        user = await self._user(store, incoming, known)
        # A deep copy: handlers may change nested values in place.
        state = DialogueState(conv.dialogue, conv.step, copy.deepcopy(conv.data))
        if not self._step_wants_number(state) and not self.caps(incoming.channel).buttons:
            incoming = _resolve_number(incoming, conv.last_buttons)
        # The handler's ORM session joins this transaction: one commit for all.
        caps = self.caps(incoming.channel)
        ctx = Context(incoming, state, user, conn, self.services, self.router, capabilities=caps)
        try:
            replies = await self._route(ctx)
        finally:
            await ctx.close_session()
        # Numbers typed later refer to the buttons of this last answer only.
        buttons = _buttons_to_json(replies)
        if (state.dialogue, state.step, state.data, buttons) == (
            conv.dialogue,
            conv.step,
            conv.data,
            conv.last_buttons,
        ):
            return replies, None
        changed = SavedConversation(
            incoming.channel, incoming.chat_id, state.dialogue, state.step, state.data, buttons
        )
        return replies, changed

    async def _user(
        self,
        store: ChatStore,
        incoming: Incoming,
        known: dict[tuple[str, str], SeenUser] | None = None,
    ) -> SeenUser:
        """Who is writing, as stored now (a role may have changed from the command line
        or another process): from ``known`` (read for a whole batch) or read here. The
        users row (last seen, name) is written at most every few minutes per chat:
        writing it on every message would cost a write each time."""
        key = (incoming.channel, incoming.chat_id)
        now = _aware(incoming.time)
        cached = self._seen.get(key)
        if cached is not None:
            user, written = cached
            fresh = now - written < USER_REFRESH
            if fresh and incoming.display_name in (None, user.display_name):
                stored = known.get(key) if known is not None else None
                if known is None:
                    stored = (await store.users([key])).get(key)
                if stored is not None:  # else deleted meanwhile (/xoadulieu): write again
                    self._seen[key] = (stored, written)
                    self._seen.move_to_end(key)
                    return stored
        user = await store.user_seen(
            incoming.channel,
            incoming.chat_id,
            incoming.user_id,
            incoming.display_name,
            incoming.language,
            now=now,
        )
        self._seen[key] = (user, now)
        self._seen.move_to_end(key)
        if len(self._seen) > USER_CACHE_SIZE:
            self._seen.popitem(last=False)
        return user

    def _step_wants_number(self, state: DialogueState) -> bool:
        """A step that asks for a number (workers, cost) takes "5" as the answer."""
        feature = self.router.get(state.dialogue) if state.dialogue else None
        return state.step in getattr(feature, "numeric_steps", frozenset())

    async def _route(self, ctx: Context) -> list[Reply]:
        i = ctx.incoming
        if i.payload is None and i.phone is None and not (i.text or "").strip():
            menu: Any = self.router.get("menu")
            return await menu.no_text(ctx)  # type: ignore[no-any-return]
        return await self.router.dispatch(ctx)

    async def _record_failed_update(self, incoming: Incoming) -> None:
        """Keep a failed update from being retried forever by redelivery."""
        if incoming.update_id is None:
            return
        try:
            async with self.db.begin() as conn:
                await ChatStore(conn).record_update(incoming.channel, incoming.update_id)
        except Exception:
            log.exception("could not record failed update")


def _aware(moment: datetime) -> datetime:
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


# Control characters (but newline and tab) become spaces before anything sees the text:
# they are invisible to people and make document and spreadsheet writers fail.
_CONTROL = dict.fromkeys([*range(0x00, 0x09), 0x0B, 0x0C, *range(0x0E, 0x20), 0x7F], " ")


def sanitise(incoming: Incoming) -> Incoming:
    text = incoming.text
    if text is not None:
        text = text.translate(_CONTROL)
        if len(text) > MAX_TEXT:
            text = text[:MAX_TEXT]
    if text == incoming.text:
        return incoming
    return replace(incoming, text=text)


def _who(incoming: Incoming) -> tuple[str, str]:
    return incoming.channel, incoming.chat_id


def _resolve_number(incoming: Incoming, last_buttons: list[Any]) -> Incoming:
    """On channels without buttons, "2" means the second button shown last."""
    if incoming.payload is not None:
        return incoming
    text = (incoming.text or "").strip().rstrip(".")
    if not text.isdigit() or not last_buttons:
        return incoming
    n = int(text)
    if 1 <= n <= len(last_buttons):
        _label, payload = last_buttons[n - 1]
        return replace(incoming, text=None, payload=payload)
    return incoming


def button_from_json(item: list[str]) -> Button:
    return Button(item[0], item[1])
