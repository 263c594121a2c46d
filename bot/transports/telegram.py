"""Telegram through python-telegram-bot: updates in as ``Incoming``, ``Reply`` objects out.

Long polling by default; a webhook served by aiohttp when ``KCBOT_WEBHOOK_URL`` is set.
PTB handles updates concurrently; the transport keeps one chat's messages in order (the
chat's next message is handled only after the previous one's replies were sent), and the
engine serialises a chat across processes.

Sending:

- ``send(chat_id, reply)`` (``retry=True``, direct replies): flood waits (429) are honoured
  and retried by the rate limiter, network errors retried with backoff; a blocked bot (403)
  marks the user unreachable; nothing is raised.
- ``send(chat_id, reply, retry=False)`` (the outbox sender): one attempt, every
  ``telegram.error.TelegramError`` (``RetryAfter``, ``Forbidden``, ``BadRequest``,
  ``NetworkError``/``TimedOut``) is raised to the caller, nothing is marked. Sends still go
  through the overall rate limiter (about 30 messages a second).

Texts are sent without ``parse_mode``, so what a user typed (``<b>``, ``_``) shows literally.
"""

from __future__ import annotations

import asyncio
import contextlib
import hmac
import io
import json
import logging
import os
from collections.abc import Awaitable, Callable, Coroutine
from datetime import UTC, datetime, timedelta
from functools import partial
from typing import Any, TypeVar
from urllib.parse import urlsplit

# PTB 22 warns, on every flood wait, that time periods (``RetryAfter.retry_after``…) will
# become ``timedelta``s; opt in now (read by PTB at each use), as PTB itself suggests.
os.environ.setdefault("PTB_TIMEDELTA", "true")

from aiohttp import web  # noqa: E402
from telegram import (
    BotCommand,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    InputFile,
    KeyboardButton,
    ReplyKeyboardMarkup,
    ReplyKeyboardRemove,
    Update,
)
from telegram.constants import ChatMemberStatus, ChatType
from telegram.error import (
    BadRequest,
    Forbidden,
    InvalidToken,
    NetworkError,
    RetryAfter,
    TelegramError,
    TimedOut,
)
from telegram.ext import AIORateLimiter, Application, ContextTypes, TypeHandler

from bot.app import App
from bot.engine import ChatLocks
from bot.types import Incoming, Reply

log = logging.getLogger(__name__)

CHANNEL = "telegram"
MAX_TEXT = 4096
MAX_CAPTION = 1024
PHONE_BUTTON = "📱 Chia sẻ số điện thoại"
ALLOWED_UPDATES = ["message", "callback_query", "my_chat_member"]

# Direct replies: the rate limiter retries a flood wait this many times; network errors
# are retried by the transport with exponential backoff starting at NETWORK_BACKOFF.
FLOOD_RETRIES = 3
NETWORK_RETRIES = 3
NETWORK_BACKOFF = 0.5
# HTTP connections to the Bot API. PTB's default (256) makes httpcore's pool bookkeeping,
# which is quadratic in the number of connections, the bottleneck under load (see
# bench/telegram_throughput.py); requests beyond it wait up to POOL_TIMEOUT for a connection.
CONNECTIONS = 16
POOL_TIMEOUT = 10.0
# Updates handled at once (different chats; one chat's updates wait for each other).
# PTB's default is 256; past the number of connections, requests only queue in httpcore.
CONCURRENT_UPDATES = 16
# ``rate_limit_args`` value meaning "one attempt, raise RetryAfter" (see _RateLimiter).
_NO_RETRY = -1

T = TypeVar("T")


class _RateLimiter(AIORateLimiter):
    """PTB's limiter, plus a way to ask for one attempt without retries.

    ``AIORateLimiter`` treats ``rate_limit_args=0`` as "use the default", so the outbox's
    single-attempt sends pass ``_NO_RETRY``; they are still throttled like every request.
    """

    async def process_request(  # type: ignore[override]
        self,
        callback: Callable[..., Coroutine[Any, Any, Any]],
        args: Any,
        kwargs: dict[str, Any],
        endpoint: str,
        data: dict[str, Any],
        rate_limit_args: int | None,
    ) -> Any:
        if rate_limit_args != _NO_RETRY:
            return await super().process_request(
                callback, args, kwargs, endpoint, data, rate_limit_args
            )
        chat_id = data.get("chat_id")
        with contextlib.suppress(ValueError, TypeError):
            chat_id = int(chat_id)  # type: ignore[arg-type]
        group: int | str | bool = False
        if (isinstance(chat_id, int) and chat_id < 0) or isinstance(chat_id, str):
            group = chat_id
        return await self._run_request(  # noqa: SLF001 - PTB is pinned <23
            chat=chat_id is not None,
            group=group,
            allow_paid_broadcast=data.get("allow_paid_broadcast", False),
            callback=callback,
            args=args,
            kwargs=kwargs,
        )


def retry_after_seconds(exc: RetryAfter) -> float:
    """How long Telegram asked to wait. (``exc.retry_after`` warns about a type change in
    PTB 22; this reads the timedelta PTB keeps.)"""
    return float(exc._retry_after.total_seconds())  # noqa: SLF001


def _utf16_len(text: str) -> int:
    """Telegram measures text in UTF-16 code units (an emoji may count twice)."""
    return len(text.encode("utf-16-le")) // 2


def _cut(text: str, limit: int) -> int:
    """The largest prefix length (in characters) of ``text`` that fits ``limit`` units."""
    if _utf16_len(text) <= limit:
        return len(text)
    lo, hi = 0, min(len(text), limit)
    while lo < hi:  # binary search: the prefix is at most ``limit`` characters long
        mid = (lo + hi + 1) // 2
        if _utf16_len(text[:mid]) <= limit:
            lo = mid
        else:
            hi = mid - 1
    return lo


def split_text(text: str, limit: int = MAX_TEXT) -> list[str]:
    """Cut ``text`` into parts Telegram accepts: at paragraphs, then lines, then words,
    then anywhere. Parts are never empty; whitespace at the cuts is dropped."""
    parts: list[str] = []
    rest = text.strip("\n")
    while _utf16_len(rest) > limit:
        window = rest[: _cut(rest, limit)]
        at = -1
        for sep in ("\n\n", "\n", " "):
            at = window.rfind(sep)
            if at > 0:
                break
        if at <= 0:
            at = len(window)
        head, rest = rest[:at].rstrip(), rest[at:].lstrip("\n ")
        if head.strip():
            parts.append(head)
    if rest.strip():
        parts.append(rest)
    return parts or [text]


class TelegramTransport:
    def __init__(
        self,
        app: App,
        *,
        poll_timeout: float = 10.0,
        poll_interval: float = 0.0,
        rate_limit: bool = True,
        connections: int = CONNECTIONS,
        concurrent_updates: int = CONCURRENT_UPDATES,
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
        builder = (
            Application.builder()
            .token(token)
            .base_url(base_url)
            .concurrent_updates(concurrent_updates)
            .connection_pool_size(connections)
            .pool_timeout(POOL_TIMEOUT)
            .job_queue(None)
        )
        if base_url.endswith("/bot"):
            builder = builder.base_file_url(base_url[: -len("bot")] + "file/bot")
        if rate_limit:
            builder = builder.rate_limiter(
                _RateLimiter(max_retries=FLOOD_RETRIES)  # type: ignore[arg-type]
            )
        if self.webhook:
            builder = builder.updater(None)
        self.ptb: Application[Any, Any, Any, Any, Any, Any] = builder.build()
        self.ptb.add_handler(TypeHandler(Update, self._on_update))
        self.ptb.add_error_handler(self._on_error)
        self._rate_limited = rate_limit
        self._chats = ChatLocks()
        # Chats shown the "share phone" keyboard, which the next plain reply removes.
        self._phone_keyboard: set[str] = set()
        self._web: web.AppRunner | None = None
        self._tasks: set[asyncio.Task[None]] = set()
        self._started = False
        self.webhook_port: int | None = None

    # --- lifecycle ----------------------------------------------------------------------

    async def start(self) -> None:
        await self.ptb.initialize()
        await self.ptb.start()
        self._started = True
        await self._set_commands()
        if self.webhook:
            await self._start_webhook()
        else:
            assert self.ptb.updater is not None
            await self.ptb.updater.start_polling(
                poll_interval=self.poll_interval,
                timeout=timedelta(seconds=max(0, round(self.poll_timeout))),
                allowed_updates=ALLOWED_UPDATES,
                drop_pending_updates=False,
                error_callback=self._on_polling_error,
            )
        log.info(
            "Telegram: @%s is %s",
            self.ptb.bot.username,
            f"receiving webhooks on port {self.webhook_port}" if self.webhook else "polling",
        )

    async def stop(self) -> None:
        """No new updates; updates being handled finish (replies sent); PTB shuts down."""
        if not self._started:
            return
        self._started = False
        if self._web is not None:
            # Stops listening and waits for requests being handled (they await the update).
            await self._web.cleanup()
            self._web = None
        if self._tasks:
            await asyncio.gather(*self._tasks, return_exceptions=True)
        if self.ptb.updater is not None and self.ptb.updater.running:
            await self.ptb.updater.stop()
        if self.ptb.running:
            await self.ptb.stop()  # waits for the updates it is processing
        await self.ptb.shutdown()

    async def _set_commands(self) -> None:
        commands = [BotCommand(c, d) for c, d in self.app.engine.router.command_list]
        if not commands:
            return
        for language in ("vi", None):
            try:
                await self._call(
                    partial(self.ptb.bot.set_my_commands, commands, language_code=language)
                )
            except TelegramError as exc:
                log.warning("could not set the command list (%s): %s", language, exc)

    # --- webhook ------------------------------------------------------------------------

    async def _start_webhook(self) -> None:
        url = self.settings.webhook_url
        assert url is not None
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
        await self._call(
            lambda: self.ptb.bot.set_webhook(
                url,
                secret_token=self.settings.webhook_secret,
                allowed_updates=ALLOWED_UPDATES,
                drop_pending_updates=False,
            )
        )

    async def _on_health(self, request: web.Request) -> web.Response:
        return web.json_response({"ok": True, "running": self._started})

    async def _on_webhook(self, request: web.Request) -> web.Response:
        secret = self.settings.webhook_secret or ""
        given = request.headers.get("X-Telegram-Bot-Api-Secret-Token", "")
        if not secret or not hmac.compare_digest(given.encode(), secret.encode()):
            log.warning("webhook request with a wrong secret token from %s", request.remote)
            return web.Response(status=403, text="forbidden")
        try:
            data = json.loads(await request.read())
            if not isinstance(data, dict) or not isinstance(data.get("update_id"), int):
                raise ValueError("not an update")
            update = Update.de_json(data, self.ptb.bot)
        except Exception as exc:  # bad JSON or not an update: Telegram would never send it
            log.warning("webhook: malformed update: %s", exc)
            return web.Response(status=400, text="bad update")
        if not self._started:
            return web.Response(status=503, text="stopping")
        # Handled before answering: if the process dies meanwhile, Telegram sends the update
        # again (non-2xx or no answer) and the engine recognises it by update_id.
        task = asyncio.create_task(self.ptb.process_update(update))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        try:
            await asyncio.shield(task)
        except Exception:
            log.exception("webhook: update %s failed", update.update_id)
        return web.Response(text="ok")

    # --- incoming -----------------------------------------------------------------------

    async def _on_update(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        incoming = self.to_incoming(update)
        query = update.callback_query
        if incoming is None:
            if query is not None:
                await self._answer_callback(query.id)
            self._note_membership(update)
            return
        # Take the chat's place in line before any await: messages stay in order.
        held = await self._chats((CHANNEL, incoming.chat_id))
        async with held:
            if query is not None:
                await self._answer_callback(query.id)
            try:
                replies = await self.app.engine.handle(incoming)
            except Exception:  # the engine answers its own errors; this is a last resort
                log.exception("engine failed on update %s", update.update_id)
                return
            for reply in replies:
                if not await self._deliver(incoming.chat_id, reply):
                    break

    @staticmethod
    def to_incoming(update: Update) -> Incoming | None:
        """The ``Incoming`` for a private chat's message or button tap; None to ignore."""
        update_id = str(update.update_id)
        query = update.callback_query
        if query is not None:
            if query.data is None:
                return None
            user = query.from_user
            chat = query.message.chat if query.message is not None else None
            if chat is not None and chat.type != ChatType.PRIVATE:
                return None
            return Incoming(
                channel=CHANNEL,
                chat_id=str(chat.id if chat is not None else user.id),
                user_id=str(user.id),
                display_name=user.full_name,
                payload=query.data,
                update_id=update_id,
                time=datetime.now(UTC),
                language=user.language_code,
            )
        message = update.message  # edited messages and channel posts are not asked for
        if message is None or message.chat.type != ChatType.PRIVATE:
            return None
        sender = message.from_user
        if sender is None or sender.is_bot:
            return None
        phone: str | None = None
        contact = message.contact
        if contact is not None and contact.user_id == sender.id:
            phone = contact.phone_number
        return Incoming(
            channel=CHANNEL,
            chat_id=str(message.chat.id),
            user_id=str(sender.id),
            display_name=sender.full_name,
            text=message.text if phone is None else None,
            phone=phone,
            update_id=update_id,
            time=message.date,
            language=sender.language_code,
        )

    def _note_membership(self, update: Update) -> None:
        change = update.my_chat_member
        if change is None or change.chat.type != ChatType.PRIVATE:
            return
        if change.new_chat_member.status == ChatMemberStatus.BANNED:
            log.info("telegram chat %s blocked the bot", change.chat.id)
            task = asyncio.get_running_loop().create_task(
                self._mark_unreachable(str(change.chat.id))
            )
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)

    async def _answer_callback(self, query_id: str) -> None:
        """Stop the button's spinner; a query too old to answer is still handled."""
        try:
            await self._call(lambda: self.ptb.bot.answer_callback_query(query_id))
        except TelegramError as exc:
            log.info("could not answer callback query: %s", exc)

    async def _on_error(self, update: object, context: ContextTypes.DEFAULT_TYPE) -> None:
        update_id = getattr(update, "update_id", None)
        log.error("error while handling update %s", update_id, exc_info=context.error)

    @staticmethod
    def _on_polling_error(error: TelegramError) -> None:
        if isinstance(error, NetworkError) and not isinstance(error, BadRequest):
            log.warning("getUpdates failed, retrying: %s", error)
        elif isinstance(error, InvalidToken):
            log.error("Telegram refused the token (TELEGRAM_BOT_TOKEN): %s", error)
        else:
            log.error("getUpdates failed: %s", error)

    # --- outgoing -----------------------------------------------------------------------

    async def send(self, chat_id: str, reply: Reply, *, retry: bool = True) -> None:
        """Send one reply. ``retry=False``: one attempt, Telegram's errors are raised."""
        if retry:
            await self._deliver(chat_id, reply)
        else:
            await self._send_reply(chat_id, reply, retry=False)

    async def _deliver(self, chat_id: str, reply: Reply) -> bool:
        """Send with retries; False when the chat can't be reached any more (blocked)."""
        try:
            await self._send_reply(chat_id, reply, retry=True)
        except Forbidden as exc:
            log.info("telegram chat %s can't be reached (%s); marking it", chat_id, exc)
            await self._mark_unreachable(chat_id)
            return False
        except BadRequest as exc:
            log.warning("Telegram refused a reply to chat %s: %s", chat_id, exc)
        except RetryAfter as exc:
            log.warning("flood limit persists for chat %s, reply dropped: %s", chat_id, exc)
        except (NetworkError, TimedOut) as exc:
            log.warning("network failure sending to chat %s, reply dropped: %s", chat_id, exc)
        except TelegramError as exc:
            log.warning("reply to chat %s failed: %s", chat_id, exc)
        return True

    async def _mark_unreachable(self, chat_id: str) -> None:
        from db.repos.core import UserRepo

        try:
            async with self.app.sessions() as session, session.begin():
                await UserRepo(session).mark_unreachable(CHANNEL, chat_id)
        except Exception:
            log.exception("could not mark telegram chat %s unreachable", chat_id)

    async def _send_reply(self, chat_id: str, reply: Reply, *, retry: bool) -> None:
        bot = self.ptb.bot
        target = int(chat_id) if chat_id.lstrip("-").isdigit() else chat_id
        markup = self._markup(chat_id, reply)
        texts: list[str] = []
        caption: str | None = None
        doc = reply.document
        if doc is None:
            texts = split_text(reply.text) if reply.text.strip() else []
        else:
            caption = reply.text if doc.caption is None else doc.caption
            if doc.caption is not None and reply.text.strip():
                texts = split_text(reply.text)
            if caption is not None and (not caption.strip() or _utf16_len(caption) > MAX_CAPTION):
                if caption.strip():
                    texts += split_text(caption)
                caption = None
        if doc is None and not texts:
            if markup is None:
                return
            texts = ["…"]  # buttons need a message to sit on
        limit: dict[str, Any] = {}
        if self._rate_limited and not retry:
            limit["rate_limit_args"] = _NO_RETRY
        for i, part in enumerate(texts):
            last = doc is None and i == len(texts) - 1
            await self._call(
                partial(
                    bot.send_message, target, part, reply_markup=markup if last else None, **limit
                ),
                retry=retry,
            )
        if doc is not None:
            content, filename = doc.content, doc.filename
            await self._call(
                lambda: bot.send_document(
                    target,
                    InputFile(io.BytesIO(content), filename=filename),
                    caption=caption,
                    reply_markup=markup,
                    **limit,
                ),
                retry=retry,
            )
        if reply.request_phone:
            self._phone_keyboard.add(chat_id)
        elif isinstance(markup, ReplyKeyboardRemove):
            self._phone_keyboard.discard(chat_id)

    def _markup(
        self, chat_id: str, reply: Reply
    ) -> InlineKeyboardMarkup | ReplyKeyboardMarkup | ReplyKeyboardRemove | None:
        if reply.request_phone:
            # A message carries one keyboard: the phone button wins over inline buttons.
            return ReplyKeyboardMarkup(
                [[KeyboardButton(PHONE_BUTTON, request_contact=True)]],
                resize_keyboard=True,
                one_time_keyboard=True,
            )
        if reply.buttons:
            return InlineKeyboardMarkup(
                [
                    [InlineKeyboardButton(b.label, callback_data=b.payload) for b in row]
                    for row in reply.buttons
                    if row
                ]
            )
        if chat_id in self._phone_keyboard:
            return ReplyKeyboardRemove()
        return None

    async def _call(self, make: Callable[[], Awaitable[T]], *, retry: bool = True) -> T:
        """Call the Bot API; network failures are retried with backoff when ``retry``."""
        attempt = 0
        while True:
            try:
                return await make()
            except RetryAfter as exc:
                # With the rate limiter on, it has waited and retried already.
                attempt += 1
                if not retry or self._rate_limited or attempt > FLOOD_RETRIES:
                    raise
                await asyncio.sleep(retry_after_seconds(exc) + 0.1)
            except (BadRequest, Forbidden, InvalidToken):
                raise
            except NetworkError as exc:  # TimedOut, 5xx, connection refused
                attempt += 1
                if not retry or attempt > NETWORK_RETRIES:
                    raise
                delay = NETWORK_BACKOFF * 2 ** (attempt - 1)
                log.info("Telegram request failed (%s); retry %d in %.1fs", exc, attempt, delay)
                await asyncio.sleep(delay)
