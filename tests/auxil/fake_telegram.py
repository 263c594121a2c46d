"""An in-process fake of the Telegram Bot API, strict where Telegram is strict.

Start it, point the bot at ``server.base_url`` (``TELEGRAM_API_BASE_URL``), then act as the
users and as Telegram::

    server = FakeTelegram()
    await server.start()
    server.push_message(1001, "/start")               # a user writes
    [msg] = await server.wait_for_messages(1001, 1)    # what the user sees
    msg["text"], msg["reply_markup"]["inline_keyboard"]
    server.push_callback(1001, "menu:contact")         # the user taps a button
    server.fail_next("sendMessage", status=429, retry_after=1)
    server.block(1001)                                 # every send to 1001 → 403
    server.drop_next("sendMessage")                    # connection closed, no answer
    server.calls                                       # every request, with timestamps
    server.rejected                                    # requests Telegram would refuse
    await server.stop()

Served at ``/bot<token>/<method>``; bodies may be JSON, form-encoded (what PTB sends, with
JSON-encoded values) or multipart (sendDocument). Errors have Telegram's shape:
``{"ok": false, "error_code": 400, "description": "Bad Request: message text is empty"}``.

getUpdates follows Telegram: an update stays until confirmed by a request whose ``offset``
is above its id, so a bot killed before confirming gets it again. The long poll is held
until an update arrives or ``timeout`` seconds pass.

Each entry of ``calls`` is a dict: ``method``, ``params`` (decoded; ``reply_markup`` parsed),
``time`` (``time.monotonic()`` on arrival), ``status`` (HTTP), ``ok``, ``description`` and
``reason`` (None when accepted, else ``"invalid"`` — Telegram would refuse it —,
``"injected"`` — ``fail_next`` —, ``"dropped"`` — ``drop_next`` — or ``"blocked"``).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
from collections import defaultdict
from itertools import count
from typing import Any

from aiohttp import web

TOKEN = "123456:TEST-TOKEN"
BOT_USER = {
    "id": 123456,
    "is_bot": True,
    "first_name": "Trợ lý Khuyến công",
    "username": "kc_test_bot",
    "can_join_groups": False,
    "can_read_all_group_messages": False,
    "supports_inline_queries": False,
}
SEND_METHODS = frozenset({"sendMessage", "sendDocument"})
# Form values PTB sends JSON-encoded (strings such as ``text`` are sent as they are).
_JSON_FIELDS = frozenset(
    {
        "reply_markup",
        "allowed_updates",
        "commands",
        "scope",
        "link_preview_options",
        "reply_parameters",
        "entities",
        "caption_entities",
    }
)
_INT_FIELDS = frozenset(
    {"chat_id", "message_id", "offset", "limit", "timeout", "max_connections", "cache_time"}
)
_BOOL_FIELDS = frozenset(
    {
        "drop_pending_updates",
        "show_alert",
        "disable_notification",
        "protect_content",
        "allow_paid_broadcast",
    }
)
_ERRORS = {
    400: "Bad Request",
    401: "Unauthorized",
    403: "Forbidden: bot was blocked by the user",
    404: "Not Found",
    409: "Conflict",
    429: "Too Many Requests: retry after {retry_after}",
    500: "Internal Server Error",
    502: "Bad Gateway",
}


class TelegramError(Exception):
    def __init__(self, status: int, description: str, retry_after: int | None = None) -> None:
        super().__init__(description)
        self.status, self.description, self.retry_after = status, description, retry_after


def _utf16_len(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2


class FakeTelegram:
    def __init__(self, token: str = TOKEN) -> None:
        self.token = token
        self.calls: list[dict[str, Any]] = []
        self.sent_total = 0  # messages and documents delivered, all chats
        self.webhook: dict[str, Any] = {"url": ""}
        self.commands: dict[tuple[str, str], list[dict[str, str]]] = {}
        self._updates: list[dict[str, Any]] = []  # each {"update": ..., "delivered": bool}
        self._update_ids = count(1)
        self._message_ids = count(1)
        self._query_ids = count(1)
        self._failures: dict[str, list[tuple[int, str, int | None]]] = defaultdict(list)
        self._blocked: set[int] = set()
        self._drops: dict[str, int] = defaultdict(int)
        self._last_message: dict[int, dict[str, Any]] = {}
        self._changed = asyncio.Condition()
        self._closing = False
        self._runner: web.AppRunner | None = None
        self.port = 0
        self._hold: asyncio.Event | None = None
        self.holding = 0  # sends waiting for release()
        self.connections_lost = 0  # held sends whose client went away

    # --- lifecycle ----------------------------------------------------------------------

    async def start(self) -> FakeTelegram:
        app = web.Application(client_max_size=60 * 1024**2)
        app.router.add_route("*", "/bot{token}/{method}", self._handle)
        self._runner = web.AppRunner(app, access_log=None, shutdown_timeout=1.0)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        self.port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        return self

    async def stop(self) -> None:
        self._closing = True
        await self._notify()
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    @property
    def base_url(self) -> str:
        """For ``TELEGRAM_API_BASE_URL``: the part before the token."""
        return f"http://127.0.0.1:{self.port}/bot"

    # --- acting as users ----------------------------------------------------------------

    def _user(self, chat_id: int, first_name: str, last_name: str | None) -> dict[str, Any]:
        user: dict[str, Any] = {
            "id": chat_id,
            "is_bot": False,
            "first_name": first_name,
            "language_code": "vi",
        }
        if last_name:
            user["last_name"] = last_name
        return user

    def push_update(self, raw: dict[str, Any]) -> int:
        """Queue a raw update (``update_id`` may repeat one already sent: a redelivery)."""
        raw = dict(raw)
        raw.setdefault("update_id", next(self._update_ids))
        self._updates.append({"update": raw, "delivered": False})
        self._wake()
        return int(raw["update_id"])

    def push_message(
        self,
        chat_id: int,
        text: str | None,
        *,
        update_id: int | None = None,
        first_name: str = "An",
        last_name: str | None = "Nguyễn",
        extra: dict[str, Any] | None = None,
    ) -> int:
        """A private message from user ``chat_id``; ``extra`` adds fields (sticker, photo…)."""
        user = self._user(chat_id, first_name, last_name)
        chat = {k: v for k, v in user.items() if k in ("id", "first_name", "last_name")}
        message: dict[str, Any] = {
            "message_id": next(self._message_ids),
            "date": int(time.time()),
            "chat": {**chat, "type": "private"},
            "from": user,
        }
        if text is not None:
            message["text"] = text
            if text.startswith("/"):
                message["entities"] = [
                    {"type": "bot_command", "offset": 0, "length": len(text.split()[0])}
                ]
        message.update(extra or {})
        raw: dict[str, Any] = {"message": message}
        if update_id is not None:
            raw["update_id"] = update_id
        return self.push_update(raw)

    def push_contact(self, chat_id: int, phone: str, *, user_id: int | None = None) -> int:
        """The user shares a phone number (their own unless ``user_id`` says otherwise)."""
        contact = {"phone_number": phone, "first_name": "An", "user_id": user_id or chat_id}
        return self.push_message(chat_id, None, extra={"contact": contact})

    def push_callback(
        self,
        chat_id: int,
        data: str,
        message_id: int | None = None,
        *,
        first_name: str = "An",
        last_name: str | None = "Nguyễn",
    ) -> int:
        """The user taps an inline button of ``message_id`` (default: the last message)."""
        message = self._last_message.get(chat_id)
        if message_id is not None or message is None:
            message = {
                "message_id": message_id or 1,
                "date": int(time.time()) - 3600,
                "chat": {"id": chat_id, "type": "private", "first_name": first_name},
                "from": BOT_USER,
                "text": "…",
            }
        query = {
            "id": str(next(self._query_ids)),
            "from": self._user(chat_id, first_name, last_name),
            "chat_instance": f"ci{chat_id}",
            "message": message,
            "data": data,
        }
        return self.push_update({"callback_query": query})

    def fail_next(
        self,
        method: str,
        status: int = 429,
        retry_after: int = 1,
        count: int = 1,
        description: str | None = None,
    ) -> None:
        """The next ``count`` calls of ``method`` fail with ``status`` (429, 403, 400, 5xx)."""
        text = description or _ERRORS.get(status, "Error").format(retry_after=retry_after)
        for _ in range(count):
            self._failures[method].append((status, text, retry_after if status == 429 else None))

    def drop_next(self, method: str, count: int = 1) -> None:
        """The next ``count`` calls of ``method`` are read, then their connection is closed
        without an answer (a proxy or Telegram's front end going away)."""
        self._drops[method] += count

    def hold_sends(self) -> None:
        """Sends wait unanswered until ``release()`` (a slow Telegram): a bot killed
        meanwhile has not had its message accepted, which is recorded as ``abandoned``."""
        self._hold = asyncio.Event()

    def release(self) -> None:
        if self._hold is not None:
            self._hold.set()
        self._hold = None

    def block(self, chat_id: int) -> None:
        """User ``chat_id`` blocked the bot: every send to it gets 403."""
        self._blocked.add(int(chat_id))

    def unblock(self, chat_id: int) -> None:
        self._blocked.discard(int(chat_id))

    # --- what happened ------------------------------------------------------------------

    def sent_to(self, chat_id: int) -> list[dict[str, Any]]:
        """Messages and documents delivered to ``chat_id``, oldest first (their params)."""
        return [
            {"method": c["method"], **c["params"]}
            for c in self.calls
            if c["method"] in SEND_METHODS and c["ok"] and c["params"].get("chat_id") == chat_id
        ]

    def calls_to(self, method: str) -> list[dict[str, Any]]:
        return [c for c in self.calls if c["method"] == method]

    @property
    def rejected(self) -> list[dict[str, Any]]:
        """Requests Telegram itself would have refused (not the injected failures)."""
        return [c for c in self.calls if c["reason"] == "invalid"]

    @property
    def pending_updates(self) -> int:
        return len(self._updates)

    async def wait_for_messages(
        self,
        chat_id: int,
        n: int,
        timeout: float = 5.0,  # noqa: ASYNC109 - a test helper's deadline
    ) -> list[dict[str, Any]]:
        """Wait until ``chat_id`` received at least ``n`` messages; returns them all."""

        async def enough() -> list[dict[str, Any]]:
            async with self._changed:
                while len(sent := self.sent_to(chat_id)) < n:
                    await self._changed.wait()
                return sent

        try:
            return await asyncio.wait_for(enough(), timeout)
        except TimeoutError:
            got = [m.get("text") or m.get("caption") for m in self.sent_to(chat_id)]
            raise AssertionError(
                f"chat {chat_id}: wanted {n} messages within {timeout}s, got {got!r}"
            ) from None

    async def wait_for(self, predicate: Any, timeout: float = 5.0) -> None:  # noqa: ASYNC109
        """Wait until ``predicate(self)`` is true (checked after every request)."""

        async def until() -> None:
            async with self._changed:
                while not predicate(self):
                    await self._changed.wait()

        await asyncio.wait_for(until(), timeout)

    # --- the HTTP side ------------------------------------------------------------------

    def _wake(self) -> None:
        with contextlib.suppress(RuntimeError):  # no loop yet: nobody is waiting
            asyncio.get_running_loop().create_task(self._notify())

    async def _notify(self) -> None:
        async with self._changed:
            self._changed.notify_all()

    async def _params(self, request: web.Request) -> dict[str, Any]:
        params: dict[str, Any] = dict(request.query)
        ctype = request.content_type
        if ctype == "application/json":
            body = await request.json() if request.can_read_body else {}
            params.update(body or {})
            return params
        if ctype.startswith("multipart/"):
            reader = await request.multipart()
            while (part := await reader.next()) is not None:
                if getattr(part, "filename", None):
                    data = await part.read()  # type: ignore[union-attr]
                    params[part.name or "file"] = {  # type: ignore[union-attr]
                        "filename": part.filename,
                        "size": len(data),
                        "content": data,
                    }
                else:
                    params[part.name or ""] = await part.text()  # type: ignore[union-attr]
        elif request.can_read_body:
            params.update(await request.post())
        for key, value in list(params.items()):
            if not isinstance(value, str):
                continue
            if key in _JSON_FIELDS:
                params[key] = json.loads(value)
            elif key in _INT_FIELDS:
                params[key] = int(value) if value.lstrip("-").isdigit() else value
            elif key in _BOOL_FIELDS:
                params[key] = value.lower() == "true"
        return params

    async def _handle(self, request: web.Request) -> web.Response:
        arrived = time.monotonic()
        method = request.match_info["method"]
        record: dict[str, Any] = {
            "method": method,
            "params": {},
            "time": arrived,
            "status": 200,
            "ok": True,
            "description": None,
            "reason": None,
        }
        try:
            if request.match_info["token"] != self.token:
                raise TelegramError(401, "Unauthorized")
            record["params"] = params = await self._params(request)
            handler = getattr(self, f"_m_{method}", None)
            if handler is None:
                raise TelegramError(404, "Not Found: method not found")
            if self._drops.get(method) and request.transport is not None:
                self._drops[method] -= 1
                record.update(status=0, ok=False, reason="dropped")
                self.calls.append(record)
                request.transport.close()
                await self._notify()
                return web.Response(status=499)
            if self._failures.get(method):
                status, text, retry_after = self._failures[method].pop(0)
                record["reason"] = "injected"
                raise TelegramError(status, text, retry_after)
            chat_id = params.get("chat_id")
            if method in SEND_METHODS and self._hold is not None:
                hold = self._hold
                self.holding += 1
                await self._notify()
                while not hold.is_set():  # watching for the client to go away meanwhile
                    if request.transport is None or request.transport.is_closing():
                        self.connections_lost += 1
                        await self._notify()
                        break
                    with contextlib.suppress(TimeoutError):
                        await asyncio.wait_for(hold.wait(), 0.05)
                await hold.wait()
                self.holding -= 1
                if request.transport is None or request.transport.is_closing():
                    record.update(status=499, ok=False, reason="abandoned")
                    self.calls.append(record)
                    await self._notify()
                    return web.Response(status=499)
            if method in SEND_METHODS and chat_id in self._blocked:
                record["reason"] = "blocked"
                raise TelegramError(403, "Forbidden: bot was blocked by the user")
            result = await handler(params)
            body: dict[str, Any] = {"ok": True, "result": result}
        except TelegramError as exc:
            record.update(status=exc.status, ok=False, description=exc.description)
            if record["reason"] is None:
                record["reason"] = "invalid"
            body = {"ok": False, "error_code": exc.status, "description": exc.description}
            if exc.retry_after is not None:
                body["parameters"] = {"retry_after": exc.retry_after}
        except (ValueError, KeyError) as exc:
            record.update(status=400, ok=False, description=f"Bad Request: {exc}", reason="invalid")
            body = {"ok": False, "error_code": 400, "description": f"Bad Request: {exc}"}
        self.calls.append(record)
        if record["ok"] and method in SEND_METHODS:
            self.sent_total += 1
        await self._notify()
        return web.json_response(body, status=record["status"])

    # --- validation ---------------------------------------------------------------------

    @staticmethod
    def _chat(params: dict[str, Any]) -> int:
        chat_id = params.get("chat_id")
        if not isinstance(chat_id, int):
            raise TelegramError(400, "Bad Request: chat not found")
        return chat_id

    @staticmethod
    def _check_markup(markup: Any) -> None:
        if markup is None:
            return
        if not isinstance(markup, dict):
            raise TelegramError(400, "Bad Request: can't parse reply keyboard markup JSON object")
        for row in markup.get("inline_keyboard", []):
            for button in row:
                if not str(button.get("text", "")).strip():
                    raise TelegramError(400, "Bad Request: BUTTON_TEXT_INVALID")
                data = button.get("callback_data")
                if data is None and not button.get("url"):
                    raise TelegramError(
                        400, "Bad Request: text buttons are unallowed in the inline keyboard"
                    )
                if data is not None and not 1 <= len(str(data).encode("utf-8")) <= 64:
                    raise TelegramError(400, "Bad Request: BUTTON_DATA_INVALID")
        for row in markup.get("keyboard", []):
            for button in row:
                text = button.get("text") if isinstance(button, dict) else button
                if not str(text or "").strip():
                    raise TelegramError(400, "Bad Request: keyboard button text is empty")

    def _message(self, chat_id: int, **fields: Any) -> dict[str, Any]:
        message = {
            "message_id": next(self._message_ids),
            "date": int(time.time()),
            "chat": {"id": chat_id, "type": "private", "first_name": "An"},
            "from": BOT_USER,
            **{k: v for k, v in fields.items() if v is not None},
        }
        self._last_message[chat_id] = message
        return message

    @staticmethod
    def _inline(markup: Any) -> Any:
        return markup if isinstance(markup, dict) and "inline_keyboard" in markup else None

    # --- methods ------------------------------------------------------------------------

    async def _m_getMe(self, params: dict[str, Any]) -> Any:
        return BOT_USER

    async def _m_logOut(self, params: dict[str, Any]) -> Any:
        return True

    async def _m_close(self, params: dict[str, Any]) -> Any:
        return True

    async def _m_getUpdates(self, params: dict[str, Any]) -> Any:
        if self.webhook["url"]:
            raise TelegramError(
                409,
                "Conflict: can't use getUpdates method while webhook is active; "
                "use deleteWebhook to delete the webhook first",
            )
        offset = int(params.get("offset") or 0)
        limit = int(params.get("limit") or 100)
        timeout = float(params.get("timeout") or 0)
        deadline = time.monotonic() + timeout

        def ready() -> list[dict[str, Any]]:
            if offset:
                self._updates = [
                    u
                    for u in self._updates
                    if not (u["delivered"] and u["update"]["update_id"] < offset)
                ]
            return self._updates[:limit]

        async with self._changed:
            while not (batch := ready()) and not self._closing:
                left = deadline - time.monotonic()
                if left <= 0:
                    break
                try:
                    await asyncio.wait_for(self._changed.wait(), left)
                except TimeoutError:
                    break
        for u in batch:
            u["delivered"] = True
        return [u["update"] for u in batch]

    async def _m_setWebhook(self, params: dict[str, Any]) -> Any:
        url = params.get("url", "")
        if url and not str(url).startswith("https://") and not str(url).startswith("http://"):
            raise TelegramError(400, "Bad Request: bad webhook: invalid URL")
        self.webhook = {
            "url": url,
            "secret_token": params.get("secret_token"),
            "allowed_updates": params.get("allowed_updates"),
        }
        return True

    async def _m_deleteWebhook(self, params: dict[str, Any]) -> Any:
        self.webhook = {"url": ""}
        if params.get("drop_pending_updates"):
            self._updates.clear()
        return True

    async def _m_getWebhookInfo(self, params: dict[str, Any]) -> Any:
        return {
            "url": self.webhook["url"],
            "has_custom_certificate": False,
            "pending_update_count": len(self._updates),
        }

    async def _m_setMyCommands(self, params: dict[str, Any]) -> Any:
        commands = params.get("commands")
        if not isinstance(commands, list):
            raise TelegramError(400, "Bad Request: commands must be a list")
        for c in commands:
            name, description = c.get("command", ""), c.get("description", "")
            if not (1 <= len(name) <= 32 and name.replace("_", "").isalnum() and name.islower()):
                raise TelegramError(400, "Bad Request: BOT_COMMAND_INVALID")
            if not 1 <= len(description) <= 256:
                raise TelegramError(400, "Bad Request: BOT_COMMAND_DESCRIPTION_INVALID")
        scope = json.dumps(params.get("scope") or {"type": "default"}, sort_keys=True)
        self.commands[(scope, params.get("language_code") or "")] = commands
        return True

    async def _m_getMyCommands(self, params: dict[str, Any]) -> Any:
        scope = json.dumps(params.get("scope") or {"type": "default"}, sort_keys=True)
        return self.commands.get((scope, params.get("language_code") or ""), [])

    async def _m_deleteMyCommands(self, params: dict[str, Any]) -> Any:
        scope = json.dumps(params.get("scope") or {"type": "default"}, sort_keys=True)
        self.commands.pop((scope, params.get("language_code") or ""), None)
        return True

    async def _m_sendMessage(self, params: dict[str, Any]) -> Any:
        chat_id = self._chat(params)
        text = params.get("text")
        if not isinstance(text, str) or not text.strip():
            raise TelegramError(400, "Bad Request: message text is empty")
        if _utf16_len(text) > 4096:
            raise TelegramError(400, "Bad Request: message is too long")
        markup = params.get("reply_markup")
        self._check_markup(markup)
        return self._message(chat_id, text=text, reply_markup=self._inline(markup))

    async def _m_sendDocument(self, params: dict[str, Any]) -> Any:
        chat_id = self._chat(params)
        document = params.get("document")
        if not document:
            raise TelegramError(400, "Bad Request: there is no document in the request")
        caption = params.get("caption")
        if caption is not None and _utf16_len(str(caption)) > 1024:
            raise TelegramError(400, "Bad Request: message caption is too long")
        self._check_markup(params.get("reply_markup"))
        name = document["filename"] if isinstance(document, dict) else str(document)
        size = document["size"] if isinstance(document, dict) else 0
        doc = {
            "file_id": f"F{next(self._message_ids)}",
            "file_unique_id": "U1",
            "file_name": name,
            "file_size": size,
        }
        return self._message(
            chat_id,
            document=doc,
            caption=caption,
            reply_markup=self._inline(params.get("reply_markup")),
        )

    async def _m_editMessageText(self, params: dict[str, Any]) -> Any:
        chat_id = self._chat(params)
        text = params.get("text")
        if not isinstance(text, str) or not text.strip():
            raise TelegramError(400, "Bad Request: message text is empty")
        if _utf16_len(text) > 4096:
            raise TelegramError(400, "Bad Request: MESSAGE_TOO_LONG")
        self._check_markup(params.get("reply_markup"))
        return self._message(
            chat_id, text=text, reply_markup=self._inline(params.get("reply_markup"))
        )

    async def _m_editMessageReplyMarkup(self, params: dict[str, Any]) -> Any:
        chat_id = self._chat(params)
        self._check_markup(params.get("reply_markup"))
        return self._message(
            chat_id, text="…", reply_markup=self._inline(params.get("reply_markup"))
        )

    async def _m_answerCallbackQuery(self, params: dict[str, Any]) -> Any:
        if not params.get("callback_query_id"):
            raise TelegramError(
                400,
                "Bad Request: query is too old and response timeout expired or query ID is invalid",
            )
        text = params.get("text")
        if text is not None and len(str(text)) > 200:
            raise TelegramError(400, "Bad Request: MESSAGE_TOO_LONG")
        return True

    async def _m_sendChatAction(self, params: dict[str, Any]) -> Any:
        self._chat(params)
        return True
