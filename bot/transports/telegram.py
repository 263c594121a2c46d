"""Telegram through python-telegram-bot: updates into the inbox, replies out as neutral outcomes.

Both go through ``AiohttpRequest`` (``bot/transports/telegram_request.py``): aiohttp's
client under python-telegram-bot. The hot paths skip PTB's object model: getUpdates answers
are read as plain dicts (``to_incoming``), stored as received, and replies are sent as plain
JSON (documents still go through PTB's ``send_document``).

Receiving: long polling by default (this transport's own loop: the offset that confirms
updates to Telegram moves only past updates already committed to the inbox), or a webhook
served by aiohttp when ``KCBOT_WEBHOOK_URL`` is set (HTTP 200 only after the insert). The
inbox workers handle the stored updates.

Sending: ``TelegramSender.send`` makes one attempt and maps python-telegram-bot's errors to
``bot.channels`` outcomes — 429 rate limited (with ``retry_after``), 403 unreachable (blocked),
400 rejected, network errors and 5xx transient — so the outbox worker is the same for every
channel. Texts are sent without ``parse_mode``: what a user typed shows literally.
"""

from __future__ import annotations

import asyncio
import contextlib
import hmac
import io
import json
import logging
import os
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from functools import partial
from typing import Any, TypeVar
from urllib.parse import urlsplit

# PTB 22 warns, on every flood wait, that time periods (``RetryAfter.retry_after``…) will
# become ``timedelta``s; opt in now (read by PTB at each use), as PTB itself suggests.
os.environ.setdefault("PTB_TIMEDELTA", "true")

from aiohttp import web  # noqa: E402
from telegram import Bot, BotCommand, InputFile  # noqa: E402
from telegram.error import (  # noqa: E402
    BadRequest,
    Forbidden,
    InvalidToken,
    NetworkError,
    RetryAfter,
    TelegramError,
)
from telegram.ext import Application  # noqa: E402

from bot.channels import Capabilities, Outcome, SendResult, utf16_count  # noqa: E402
from bot.inbox import event_of  # noqa: E402
from bot.outage import Outage  # noqa: E402
from bot.render import render  # noqa: E402
from bot.transports.telegram_request import AiohttpRequest  # noqa: E402
from bot.types import Incoming, Reply  # noqa: E402

log = logging.getLogger(__name__)

CHANNEL = "telegram"
MAX_TEXT = 4096
MAX_CAPTION = 1024
PHONE_BUTTON = "📱 Chia sẻ số điện thoại"
ALLOWED_UPDATES = ["message", "edited_message", "callback_query", "my_chat_member"]
CAPABILITIES = Capabilities(
    buttons=True,
    max_buttons=100,
    request_phone=True,
    documents=True,
    max_text=MAX_TEXT,
    measure=utf16_count,
)

# HTTP connections to the Bot API (sending; getUpdates has its own). Requests beyond them
# wait up to POOL_TIMEOUT for a connection.
CONNECTIONS = 16
POOL_TIMEOUT = 10.0
# python-telegram-bot's defaults for the other timeouts (seconds; files get MEDIA_WRITE).
READ_TIMEOUT = WRITE_TIMEOUT = CONNECT_TIMEOUT = 5.0
MEDIA_WRITE_TIMEOUT = 20.0
PRIVATE = "private"
BLOCKED = "kicked"  # ChatMemberStatus.BANNED: the user blocked the bot
# A part after the first of a multi-part send that hits a 429 waits this long at most
# before the whole reply is reported rate limited.
PART_RETRY_CAP = 30.0
# Waiting after a failed getUpdates: doubled each time up to the cap.
POLL_BACKOFF = 1.0
POLL_BACKOFF_CAP = 60.0

T = TypeVar("T")


def retry_after_seconds(exc: RetryAfter) -> float:
    """How long Telegram asked to wait (PTB keeps it as a timedelta)."""
    value: Any = getattr(exc, "_retry_after", None)
    if value is None:
        return 1.0
    return float(value.total_seconds()) if hasattr(value, "total_seconds") else float(value)


def full_name(user: dict[str, Any]) -> str:
    """A Bot API User's name as python-telegram-bot's ``User.full_name`` gives it."""
    last = user.get("last_name")
    return f"{user['first_name']} {last}" if last else str(user["first_name"])


def split_text(text: str, limit: int = MAX_TEXT) -> list[str]:
    """Telegram's split: the renderer's, counting UTF-16 units."""
    from bot.render import split_text as split

    return split(text, limit, utf16_count)


def result_of(exc: TelegramError) -> SendResult:
    """A Bot API error as a neutral outcome."""
    if isinstance(exc, RetryAfter):
        return SendResult(Outcome.RATE_LIMITED, retry_after=retry_after_seconds(exc))
    if isinstance(exc, Forbidden):
        return SendResult(Outcome.UNREACHABLE, detail=str(exc))
    if isinstance(exc, BadRequest):
        return SendResult(Outcome.REJECTED, detail=str(exc))
    # NetworkError, TimedOut, 5xx, InvalidToken (the token was revoked: nothing can be sent
    # until an operator fixes it, so keep the messages)
    return SendResult(Outcome.TRANSIENT, detail=f"{type(exc).__name__}: {exc}")


Markup = dict[str, Any]


class TelegramSender:
    """Sends neutral replies through a python-telegram-bot ``Bot`` whose HTTP layer is an
    ``AiohttpRequest``: texts as raw sendMessage calls, documents with ``send_document``;
    one attempt each."""

    capabilities = CAPABILITIES

    def __init__(self, bot: Bot) -> None:
        self.bot = bot
        request = bot.request
        if not isinstance(request, AiohttpRequest):
            raise TypeError("TelegramSender needs a Bot built on AiohttpRequest")
        self.request = request
        self._send_message_url = f"{bot.base_url}/sendMessage"
        # Chats shown the "share phone" keyboard, which the next plain reply removes.
        self._phone_keyboard: set[str] = set()

    @classmethod
    def standalone(cls, token: str, base_url: str, pool_size: int = CONNECTIONS) -> TelegramSender:
        """A sender without a transport (``kcbot reminders run-due``, benchmarks); use
        ``async with`` to open and close its connection pool."""
        request = AiohttpRequest(
            pool_size,
            read_timeout=15,
            write_timeout=15,
            connect_timeout=10,
            pool_timeout=POOL_TIMEOUT,
            media_write_timeout=MEDIA_WRITE_TIMEOUT,
        )
        return cls(
            Bot(token, base_url=base_url, request=request, get_updates_request=AiohttpRequest(1))
        )

    async def __aenter__(self) -> TelegramSender:
        await self.bot.initialize()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.bot.shutdown()

    async def send(self, chat_id: str, reply: Reply) -> SendResult:
        sent_any = False
        try:
            for method in self._requests(chat_id, reply):
                await self._call(method, first=not sent_any)
                sent_any = True
        except TelegramError as exc:
            return result_of(exc)
        if reply.request_phone:
            self._phone_keyboard.add(chat_id)
        elif not reply.buttons:
            self._phone_keyboard.discard(chat_id)
        return SendResult.sent()

    async def _call(self, method: Callable[[], Awaitable[Any]], *, first: bool) -> Any:
        """A later part of a multi-part reply waits out a short 429 rather than report the
        whole reply failed: its first parts are already with the user."""
        while True:
            try:
                return await method()
            except RetryAfter as exc:
                wait = retry_after_seconds(exc)
                if first or wait > PART_RETRY_CAP:
                    raise
                await asyncio.sleep(wait)

    async def _send_message(self, target: int | str, text: str, markup: Markup | None) -> None:
        params: dict[str, Any] = {"chat_id": target, "text": text}
        if markup is not None:
            params["reply_markup"] = markup
        await self.request.call(self._send_message_url, params)

    def _requests(self, chat_id: str, reply: Reply) -> list[Callable[[], Awaitable[Any]]]:
        target: int | str = int(chat_id) if chat_id.lstrip("-").isdigit() else chat_id
        markup = self._markup(chat_id, reply)
        calls: list[Callable[[], Awaitable[Any]]] = []
        parts = render([reply], CAPABILITIES)
        for n, part in enumerate(parts):
            # The renderer puts buttons (and the phone request) on the last part only.
            part_markup = markup if n == len(parts) - 1 else None
            doc = part.document
            texts: list[str] = []
            caption: str | None = None
            if doc is None:
                texts = [part.text] if part.text.strip() else []
            else:
                caption = part.text if doc.caption is None else doc.caption
                if doc.caption is not None and part.text.strip():
                    texts = split_text(part.text)
                if caption is not None and (
                    not caption.strip() or utf16_count(caption) > MAX_CAPTION
                ):
                    if caption.strip():
                        texts += split_text(caption)
                    caption = None
            if doc is None and not texts:
                if part_markup is None:
                    continue
                texts = ["…"]  # buttons need a message to sit on
            for i, text in enumerate(texts):
                on_this = part_markup if doc is None and i == len(texts) - 1 else None
                calls.append(partial(self._send_message, target, text, on_this))
            if doc is not None:
                calls.append(
                    partial(
                        self.bot.send_document,
                        target,
                        InputFile(io.BytesIO(doc.content), filename=doc.filename),
                        caption=caption,
                        api_kwargs={"reply_markup": part_markup} if part_markup else None,
                    )
                )
        return calls

    def _markup(self, chat_id: str, reply: Reply) -> Markup | None:
        """The reply's keyboard as Bot API JSON."""
        if reply.request_phone:
            # A message carries one keyboard: the phone button wins over inline buttons.
            return {
                "keyboard": [[{"text": PHONE_BUTTON, "request_contact": True}]],
                "resize_keyboard": True,
                "one_time_keyboard": True,
            }
        if reply.buttons:
            return {
                "inline_keyboard": [
                    [{"text": b.label, "callback_data": b.payload} for b in row]
                    for row in reply.buttons
                    if row
                ]
            }
        if chat_id in self._phone_keyboard:
            return {"remove_keyboard": True}
        return None


class TelegramTransport:
    """Receives updates into the inbox and offers ``sender`` for the outbox."""

    capabilities = CAPABILITIES

    def __init__(
        self,
        app: Any,  # bot.app.App
        *,
        poll_timeout: float = 10.0,
        poll_interval: float = 0.0,
        connections: int = CONNECTIONS,
        http: Any = None,  # bot.transports.http.WebServer shared with other transports
    ) -> None:
        self.app = app
        self.settings = app.settings
        self.poll_timeout = poll_timeout
        self.poll_interval = poll_interval
        self.webhook = bool(self.settings.webhook_url)
        token = self.settings.telegram_bot_token
        if not token:
            raise ValueError("TELEGRAM_BOT_TOKEN is not set")
        base_url = self.settings.telegram_api_base_url
        updates_request = self._updates_request = self._request(1)
        builder = (
            Application.builder()
            .token(token)
            .base_url(base_url)
            .request(self._request(connections))
            .get_updates_request(updates_request)
            .job_queue(None)
            .updater(None)  # polling is this transport's own loop (see _poll)
        )
        if base_url.endswith("/bot"):
            builder = builder.base_file_url(base_url[: -len("bot")] + "file/bot")
        self.ptb: Application[Any, Any, Any, Any, Any, Any] = builder.build()
        self.sender = TelegramSender(self.ptb.bot)
        self._get_updates_url = f"{self.ptb.bot.base_url}/getUpdates"
        self._web: web.AppRunner | None = None
        self._poller: asyncio.Task[None] | None = None
        self._tasks: set[asyncio.Task[Any]] = set()
        self._started = False
        self._stopping = asyncio.Event()
        self.webhook_port: int | None = None
        self.offset: int | None = None
        self._http = http
        if http is not None and self.webhook:
            path = urlsplit(self.settings.webhook_url).path or "/"
            http.add_post(path, self._on_webhook)

    @staticmethod
    def _request(connections: int) -> AiohttpRequest:
        return AiohttpRequest(
            connections,
            read_timeout=READ_TIMEOUT,
            write_timeout=WRITE_TIMEOUT,
            connect_timeout=CONNECT_TIMEOUT,
            pool_timeout=POOL_TIMEOUT,
            media_write_timeout=MEDIA_WRITE_TIMEOUT,
        )

    # --- lifecycle ----------------------------------------------------------------------

    async def start(self) -> None:
        """Connect (retrying with backoff while the Bot API is unreachable), then receive."""
        await self._initialize()
        await self.ptb.start()
        self._started = True
        self.app.engine.capabilities[CHANNEL] = CAPABILITIES
        await self._set_commands()
        if self.webhook:
            await self._start_webhook()
        else:
            with contextlib.suppress(TelegramError):
                # A webhook left from another deployment would make getUpdates fail.
                await self.ptb.bot.delete_webhook(drop_pending_updates=False)
            self._poller = asyncio.create_task(self._poll(), name="telegram-poll")
        log.info(
            "Telegram: @%s is %s",
            self.ptb.bot.username,
            f"receiving webhooks on port {self.webhook_port}" if self.webhook else "polling",
        )

    async def _initialize(self) -> None:
        outage = Outage("Telegram Bot API", self.settings.telegram_api_base_url)
        delay = POLL_BACKOFF
        while True:
            try:
                await self.ptb.initialize()
                outage.over()
                return
            except InvalidToken:
                raise
            except (NetworkError, OSError) as exc:
                outage.failed(exc, retry_in=delay)
                await asyncio.sleep(delay)
                delay = min(POLL_BACKOFF_CAP, delay * 2)

    async def stop(self) -> None:
        """No new updates; what is in the inbox stays there for the next start."""
        if not self._started:
            return
        self._started = False
        self._stopping.set()
        if self._web is not None:
            await self._web.cleanup()
            self._web = None
        if self._poller is not None:
            self._poller.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await self._poller
            self._poller = None
        if self._tasks:
            await asyncio.gather(*self._tasks, return_exceptions=True)
        if self.ptb.running:
            await self.ptb.stop()
        await self.ptb.shutdown()

    async def _set_commands(self) -> None:
        commands = [BotCommand(c, d) for c, d in self.app.engine.router.command_list]
        if not commands:
            return
        for language in ("vi", None):
            try:
                await self.ptb.bot.set_my_commands(commands, language_code=language)
            except TelegramError as exc:
                log.warning("could not set the command list (%s): %s", language, exc)

    # --- polling ------------------------------------------------------------------------

    async def _poll(self) -> None:
        """getUpdates → inbox → next getUpdates with the offset past them (which is what
        confirms them to Telegram): an update is never confirmed before it is stored."""
        outage = Outage("Telegram Bot API", "getUpdates")
        delay = POLL_BACKOFF
        while not self._stopping.is_set():
            try:
                updates = await self.get_updates()
                if updates:
                    await self.receive(updates)
                    self.offset = updates[-1]["update_id"] + 1
                outage.over()
                delay = POLL_BACKOFF
            except asyncio.CancelledError:
                raise
            except InvalidToken as exc:
                outage.failed(exc, retry_in=POLL_BACKOFF_CAP, what="Telegram refused the token")
                await self._sleep(POLL_BACKOFF_CAP)
            except Exception as exc:  # network, Bot API 5xx, database down: try again
                outage.failed(exc, retry_in=delay)
                await self._sleep(delay)
                delay = min(POLL_BACKOFF_CAP, delay * 2)
                continue
            if self.poll_interval:
                await self._sleep(self.poll_interval)

    async def get_updates(self) -> list[dict[str, Any]]:
        """One long poll: the updates after ``offset`` as received (plain dicts)."""
        timeout = round(self.poll_timeout)
        params: dict[str, Any] = {"timeout": timeout, "allowed_updates": ALLOWED_UPDATES}
        if self.offset is not None:
            params["offset"] = self.offset
        request = self._updates_request
        result = await request.call(
            self._get_updates_url, params, read_timeout=(request.read_timeout or 0) + timeout
        )
        if not isinstance(result, list) or not all(
            isinstance(u, dict) and isinstance(u.get("update_id"), int) for u in result
        ):
            raise TelegramError(f"getUpdates: unexpected answer {str(result)[:200]}")
        return result

    async def _sleep(self, seconds: float) -> None:
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._stopping.wait(), timeout=seconds)

    # --- webhook ------------------------------------------------------------------------

    async def _start_webhook(self) -> None:
        url = self.settings.webhook_url
        assert url is not None
        if self._http is not None:  # the shared server (started by the runner)
            await self._http.start()
            self.webhook_port = self._http.bound_port
            await self._set_webhook(url)
            return
        path = urlsplit(url).path or "/"
        web_app = web.Application(client_max_size=1024**2)
        web_app.router.add_post(path, self._on_webhook)
        web_app.router.add_get("/healthz", self._on_health)
        self._web = web.AppRunner(web_app, access_log=None, shutdown_timeout=15.0)
        await self._web.setup()
        site = web.TCPSite(self._web, self.settings.listen_host, self.settings.listen_port)
        await site.start()
        server = getattr(site, "_server", None)
        sockets = getattr(server, "sockets", None) or []
        self.webhook_port = sockets[0].getsockname()[1] if sockets else self.settings.listen_port
        await self._set_webhook(url)

    async def _set_webhook(self, url: str) -> None:
        await self.ptb.bot.set_webhook(
            url,
            secret_token=self.settings.webhook_secret,
            allowed_updates=ALLOWED_UPDATES,
            drop_pending_updates=False,
        )

    async def _on_health(self, request: web.Request) -> web.Response:
        return web.json_response({"ok": True, "running": self._started})

    async def _on_webhook(self, request: web.Request) -> web.Response:
        secret = self.settings.webhook_secret or ""
        given = request.headers.get("X-Telegram-Bot-Api-Secret-Token", "")
        if not secret or not hmac.compare_digest(given.encode(), secret.encode()):
            log.warning("webhook request with a wrong secret token from %s", request.remote)
            return web.Response(status=403, text="forbidden")
        body = await request.read()  # over client_max_size: aiohttp answers 413
        try:
            update = json.loads(body)
            if not isinstance(update, dict) or not isinstance(update.get("update_id"), int):
                raise ValueError("not an update")
        except Exception as exc:  # bad JSON or not an update: Telegram would never send it
            log.warning("webhook: malformed update: %s", exc)
            return web.Response(status=400, text="bad update")
        if not self._started:
            return web.Response(status=503, text="stopping")
        try:
            await self.receive([update], [body.decode("utf-8", "replace")])
        except Exception as exc:  # not stored: Telegram sends it again later
            log.warning("webhook: update %s not stored: %s", update["update_id"], exc)
            return web.Response(status=503, text="try again")
        return web.Response(text="ok")

    # --- incoming -----------------------------------------------------------------------

    async def receive(self, updates: list[dict[str, Any]], raws: list[str] | None = None) -> None:
        """Store the updates the bot answers in the inbox (one transaction), then stop the
        buttons' spinners and note blocked chats. Returns once they are committed.
        ``updates`` are Bot API JSON objects; ``raws`` their text as received (default:
        each one serialized again)."""
        events = []
        queries = []
        for n, update in enumerate(updates):
            try:
                incoming = self.to_incoming(update)
            except (KeyError, TypeError, ValueError, AttributeError) as exc:
                log.warning("telegram update %s ignored: %r", update.get("update_id"), exc)
                continue
            query = update.get("callback_query")
            if incoming is not None:
                raw = raws[n] if raws is not None else json.dumps(update, ensure_ascii=False)
                events.append(event_of(incoming, str(update["update_id"]), raw))
            if query is not None and query.get("id"):
                queries.append(query["id"])
            self._note_membership(update)
        await self.app.inbox.accept(events)
        for query_id in queries:
            self._background(self._answer_callback(query_id))

    @staticmethod
    def to_incoming(update: dict[str, Any]) -> Incoming | None:
        """The ``Incoming`` for a private chat's message or button tap (``update`` as the
        Bot API sends it); None to ignore."""
        update_id = str(update["update_id"])
        query = update.get("callback_query")
        if query is not None:
            data = query.get("data")
            if data is None:
                return None
            user = query["from"]
            message = query.get("message")
            chat = message.get("chat") if message is not None else None
            if chat is not None and chat.get("type") != PRIVATE:
                return None
            return Incoming(
                channel=CHANNEL,
                chat_id=str(chat["id"] if chat is not None else user["id"]),
                user_id=str(user["id"]),
                display_name=full_name(user),
                payload=data,
                update_id=update_id,
                time=datetime.now(UTC),
                language=user.get("language_code"),
            )
        # An edited message is answered like a new one (people correct a typo and resend).
        message = update.get("message") or update.get("edited_message")
        if message is None:
            return None
        chat = message.get("chat")
        if chat is None or chat.get("type") != PRIVATE:
            return None
        sender = message.get("from")
        if sender is None or sender.get("is_bot"):
            return None
        phone: str | None = None
        contact = message.get("contact")
        if contact is not None and contact.get("user_id") == sender["id"]:
            phone = contact.get("phone_number")
        # A photo's caption is read as its text.
        text = message.get("text")
        if text is None:
            text = message.get("caption")
        return Incoming(
            channel=CHANNEL,
            chat_id=str(chat["id"]),
            user_id=str(sender["id"]),
            display_name=full_name(sender),
            text=text if phone is None else None,
            phone=phone,
            update_id=update_id,
            time=datetime.fromtimestamp(message["date"], UTC),
            language=sender.get("language_code"),
        )

    def _note_membership(self, update: dict[str, Any]) -> None:
        change = update.get("my_chat_member")
        if change is None:
            return
        chat = change.get("chat") or {}
        if chat.get("type") != PRIVATE:
            return
        if (change.get("new_chat_member") or {}).get("status") == BLOCKED:
            log.info("telegram chat %s blocked the bot", chat.get("id"))
            self._background(self._mark_unreachable(str(chat.get("id"))))

    def _background(self, coro: Awaitable[Any]) -> None:
        task = asyncio.ensure_future(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _answer_callback(self, query_id: str) -> None:
        """Stop the button's spinner; a query too old to answer is still handled."""
        try:
            await self.ptb.bot.answer_callback_query(query_id)
        except TelegramError as exc:
            log.info("could not answer callback query: %s", exc)

    async def _mark_unreachable(self, chat_id: str) -> None:
        from db.repos.core import UserRepo

        try:
            async with self.app.sessions() as session, session.begin():
                await UserRepo(session).mark_unreachable(CHANNEL, chat_id)
        except Exception:
            log.exception("could not mark telegram chat %s unreachable", chat_id)
